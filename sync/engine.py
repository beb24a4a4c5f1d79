"""The sync engine: one cycle of push outbox -> pull case status -> pull signed catalog.

:func:`run_once` is the whole of it, plain Python with no Qt: the kiosk's background worker
calls it on a timer and ``kiosk sync --once`` calls it from the command line. The single
sync lock of the database makes sure only one of them sends at a time.

The promises, and how they are kept:

* Nothing committed is ever dropped: an item leaves the outbox only as ``accepted`` (the
  platform answered "accepted" or "duplicate" with a case number) or ``dead`` (the
  platform refused *that item* for good; staff see the reason and can retry it).
* Exactly once on the platform: every item carries its submission id as the idempotency
  key, so a batch whose answer was lost (connection reset after the server handled it,
  a timeout, a garbled answer) is simply sent again next cycle and answered "duplicate".
* Items already accepted are never sent again (``claim_batch`` only hands out pending
  items; ``accepted`` is final in the store).
* One bad item never blocks the rest: per-item rejections dead-letter only that item; a
  whole batch refused for its content (400, 413, 422) is split in halves until the
  offending item is alone, and only it is dead-lettered.
* Network trouble, 408/429/5xx and broken answers put the batch's items back with
  exponential backoff and full jitter (honouring ``Retry-After``) and end the cycle: there
  is no point hammering a platform that is down.
* A refused credential (401/403), or any other refusal that says nothing about the items
  (404 or 405 from a wrong address, ...), ends the cycle without touching the items: they
  wait, unharmed, until the cause is fixed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sync import protocol
from sync.backoff import DEFAULT_POLICY, BackoffPolicy
from sync.catalog_update import CatalogRejected, Validator, apply_bundle, current_catalog
from sync.client import (
    CentralClient,
    ClientError,
    PermanentError,
    RetryableError,
    parse_answer,
)
from sync.enrolment import Enrolment
from sync.hall_sync import sync_hall
from sync.lock import SyncBusy
from sync.outbox import OutboxItem, UnknownSubmission
from sync.store import CaseStatus, Store
from sync.store_common import utc_now

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100
# Leave head-room under the platform's body limit for the JSON around the payloads.
_BATCH_BYTES_BUDGET = int(protocol.MAX_BATCH_BYTES * 0.8)
_ITEM_OVERHEAD_BYTES = 600
# Retries are never scheduled sooner than this, so one cycle cannot spin on one item.
MIN_RETRY_DELAY = timedelta(seconds=1)
MAX_STATUS_PAGES = 50
STATUS_CURSOR_SETTING = "sync.status_cursor"
# The answers that judge what was sent (and may dead-letter it): bad request, too large,
# invalid. Any other refusal stops the cycle and keeps the items.
_CONTENT_STATUSES = frozenset({400, 413, 422})


@dataclass
class SyncReport:
    """What one sync cycle did; ``pending`` and ``dead`` describe the outbox afterwards.

    Attributes:
        pushed: items the platform now holds (accepted + duplicates) thanks to this cycle.
        accepted: items stored for the first time.
        duplicates: items the platform already had (a resend after a lost answer).
        dead: items in the dead letters after the cycle (all of them, not just new ones).
        newly_dead: items moved to the dead letters in this cycle.
        retried: items put back with backoff in this cycle.
        pending: items still to send (pending or sending) after the cycle.
        attachments_uploaded: attachments sent (or found already complete) this cycle.
        status_changes: case status changes pulled into the status cache.
        hall_records: check-ins, ratings and audit entries the platform acknowledged.
        catalog: "unchanged", "updated", "rejected", "failed", "skipped" or "not-checked".
        catalog_version: the version of the catalog in use after the cycle, if any.
        busy: another sync worker held the lock, so this cycle did nothing.
        stopped: why the push phase ended early ("network", "auth", ...), or None.
        errors: one line per problem, for the log and staff; no personal data.
    """

    pushed: int = 0
    accepted: int = 0
    duplicates: int = 0
    dead: int = 0
    newly_dead: int = 0
    retried: int = 0
    pending: int = 0
    attachments_uploaded: int = 0
    status_changes: int = 0
    hall_records: int = 0
    catalog: str = "not-checked"
    catalog_version: str | None = None
    busy: bool = False
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the cycle ran and met no error."""
        return not self.busy and not self.errors

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (for ``kiosk sync --once --json``)."""
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class SyncOptions:
    """How a cycle behaves; the defaults suit a kiosk.

    Attributes:
        batch_size: items per batch request (at most ``protocol.MAX_BATCH_ITEMS``).
        policy: backoff for retryable failures.
        catalog_root: where signed catalogs are applied (``<data>/catalog``); None skips
            the catalog pull.
        validate_catalog: loads a written catalog folder, raising if it is unusable.
        pull_status: whether to pull case status changes.
        sync_hall: whether to push check-ins, ratings and audit entries and pull used
            appointments (:mod:`sync.hall_sync`).
        ignore_backoff: send pending items even if their retry time has not come (a
            technician's "send now" after fixing the network).
    """

    batch_size: int = DEFAULT_BATCH_SIZE
    policy: BackoffPolicy = DEFAULT_POLICY
    catalog_root: Path | None = None
    validate_catalog: Validator | None = None
    pull_status: bool = True
    sync_hall: bool = True
    ignore_backoff: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= protocol.MAX_BATCH_ITEMS:
            raise ValueError(f"batch size must be 1..{protocol.MAX_BATCH_ITEMS}")


class _StopCycle(Exception):
    """The push phase must end (network down, credential refused)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def client_for(enrolment: Enrolment, **kwargs: Any) -> CentralClient:
    """A client for the enrolled central platform, carrying the device credential.

    ``kwargs`` go to :class:`CentralClient` (``ca_bundle``, ``allow_insecure_http``,
    timeouts).
    """
    return CentralClient(enrolment.central_url, token=enrolment.token, **kwargs)


def run_once(
    store: Store,
    client: CentralClient,
    *,
    now: datetime | None = None,
    options: SyncOptions | None = None,
    rng: random.Random | None = None,
) -> SyncReport:
    """Run one sync cycle: push the outbox, pull case status, pull the catalog.

    Args:
        store: the terminal's store.
        client: a client for the enrolled platform, with the device credential.
        now: the time to act at (tests step the clock); default the real time.
        options: batch size, backoff, catalog folder...
        rng: random source for jitter (tests pass a seeded one).

    Returns:
        What happened. Never raises for network or platform trouble: those end up in
        ``report.errors`` and the items are kept for the next cycle.
    """
    options = options or SyncOptions()
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utc_now
    report = SyncReport()
    try:
        with store.sync_lock():
            _Cycle(store, client, clock, options, rng or random.Random(), report).run()
    except SyncBusy as exc:
        log.info("sync skipped: %s", exc)
        report.busy = True
        report.stopped = "busy"
        report.errors.append(str(exc))
    counts = store.counts()
    report.pending = counts["pending"] + counts["sending"]
    report.dead = counts["dead"]
    log.info(
        "sync cycle: pushed %d (%d new, %d duplicates), %d retried, %d newly dead; "
        "%d pending, %d dead; %d status changes; catalog %s%s",
        report.pushed, report.accepted, report.duplicates, report.retried, report.newly_dead,
        report.pending, report.dead, report.status_changes, report.catalog,
        f"; stopped: {report.stopped}" if report.stopped else "",
    )
    return report


class _Cycle:
    """One run of the engine while holding the sync lock."""

    def __init__(
        self,
        store: Store,
        client: CentralClient,
        clock: Callable[[], datetime],
        options: SyncOptions,
        rng: random.Random,
        report: SyncReport,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.options = options
        self.rng = rng
        self.report = report

    def run(self) -> None:
        # Holding the lock proves no other worker is sending: anything left "sending" is a
        # crashed worker's, and may go again now rather than after its lease.
        released = self.store.release_claims(self.clock())
        if released:
            log.info("%d items left 'sending' by an interrupted sync are pending again", released)
        try:
            self.push()
        except _StopCycle as stop:
            self.report.stopped = stop.why
            self.report.catalog = "skipped"
            return
        finally:
            # Items claimed in this cycle but not settled (the cycle stopped part-way, or
            # failed unexpectedly) go back to pending at once; nothing stays "sending".
            self.store.release_claims(self.clock())
        if self.options.sync_hall:
            hall = sync_hall(self.store, self.client, now=self.clock())
            self.report.hall_records = hall.checkins + hall.ratings + hall.audit_entries
            self.report.errors.extend(hall.errors)
        if self.options.pull_status:
            self.pull_status()
        if self.options.catalog_root is not None:
            self.pull_catalog()

    # --- push -------------------------------------------------------------------------

    def push(self) -> None:
        counts = self.store.counts()
        # Bounded: never claim more items in one cycle than were waiting when it began.
        budget = counts["pending"] + counts["sending"]
        while budget > 0:
            claim_at = self.clock()
            if self.options.ignore_backoff:
                # Every pending item counts as due; the lease is irrelevant under the lock.
                claim_at = claim_at + timedelta(days=365 * 100)
            items = self.store.claim_batch(min(self.options.batch_size, budget), claim_at)
            if not items:
                return
            budget -= len(items)
            for batch in _split_by_size(items):
                self.push_batch(batch)

    def push_batch(self, items: list[OutboxItem]) -> None:
        """Upload the batch's attachments, send it, and settle every item."""
        items = self.upload_attachments(items)
        wire: list[protocol.SubmissionItem] = []
        sendable: list[OutboxItem] = []
        for item in items:
            try:
                wire.append(_wire_item(item))
                sendable.append(item)
            except ValidationError as exc:
                # Stored data that cannot even be put on the wire: never block the rest.
                self.bury(item, f"cannot be sent: {exc.error_count()} invalid fields "
                                f"({', '.join(str(e['loc'][0]) for e in exc.errors()[:5])})")
        items = sendable
        if not items:
            return
        try:
            response = self.client.push_batch(wire)
        except RetryableError as exc:
            self.retry_all(items, exc)
            raise _StopCycle("network") from exc
        except PermanentError as exc:
            self.stop_unless_about_content(items, exc)
            if len(items) > 1:
                # The batch as a whole was refused: find the item that causes it.
                log.warning("batch of %d refused (%s); sending it in halves", len(items), exc)
                middle = len(items) // 2
                self.push_batch(items[:middle])
                self.push_batch(items[middle:])
                return
            self.bury(items[0], f"refused by the platform: {exc}")
            return
        self.settle(items, response.results)

    def settle(self, items: list[OutboxItem], results: list[protocol.ItemResult]) -> None:
        """Record each item's result in one transaction (one fsync per batch)."""
        at = self.clock()
        by_id = {item.submission_id: item for item in items}
        with self.store.transaction():
            for result in results:
                item = by_id[result.submission_id]
                if result.status in (protocol.ItemStatus.ACCEPTED, protocol.ItemStatus.DUPLICATE):
                    if not result.case_no:
                        self._retry(item, "the platform's answer had no case number", None, at)
                        continue
                    self.store.mark_accepted(item.submission_id, result.case_no, now=at)
                    self.report.pushed += 1
                    if result.status == protocol.ItemStatus.DUPLICATE:
                        self.report.duplicates += 1
                    else:
                        self.report.accepted += 1
                elif result.retryable:
                    self._retry(item, _rejection_text(result), None, at)
                else:
                    self._bury(item, _rejection_text(result), at)

    def stop_unless_about_content(self, items: list[OutboxItem], exc: PermanentError) -> None:
        """Stop the cycle, keeping ``items``, unless ``exc`` is a verdict on what we sent.

        Only 400, 413 and 422 judge the content (a malformed, too large or invalid body).
        A refused credential, a 404 from a wrong address, a 405 from some other web server:
        those say nothing about the items, and dead-lettering the queue for them would
        turn one configuration mistake into a queue that staff must re-send by hand.
        """
        if exc.status in _CONTENT_STATUSES:
            return
        self.hold_all(items, str(exc))
        if exc.is_auth_failure:
            self.report.errors.append(f"the platform refused this terminal: {exc}")
            raise _StopCycle("auth") from exc
        self.report.errors.append(f"sending stopped, the platform refused the request: {exc}")
        raise _StopCycle("refused") from exc

    def retry_all(self, items: Iterable[OutboxItem], exc: RetryableError) -> None:
        at = self.clock()
        self.report.errors.append(f"sending paused: {exc}")
        with self.store.transaction():
            for item in items:
                self._retry(item, str(exc), exc.retry_after, at)

    def hold_all(self, items: Iterable[OutboxItem], reason: str) -> None:
        """Put items back as they were due (no backoff: the cause is not the network)."""
        at = self.clock()
        with self.store.transaction():
            for item in items:
                self.store.mark_retry(item.submission_id, reason, at, now=at)

    def bury(self, item: OutboxItem, reason: str) -> None:
        with self.store.transaction():
            self._bury(item, reason, self.clock())

    def _retry(
        self, item: OutboxItem, error: str, retry_after: float | None, at: datetime
    ) -> None:
        wait = self.options.policy.delay(item.attempts, retry_after=retry_after, rng=self.rng)
        delay = max(timedelta(seconds=wait), MIN_RETRY_DELAY)
        if self.store.mark_retry(item.submission_id, error[:500], at + delay, now=at):
            self.report.retried += 1

    def _bury(self, item: OutboxItem, reason: str, at: datetime) -> None:
        if self.store.mark_dead(item.submission_id, reason[:1000], now=at):
            self.report.newly_dead += 1
            self.report.errors.append(f"receipt {item.receipt_no} moved to dead letters: "
                                      f"{reason[:200]}")

    # --- attachments ------------------------------------------------------------------

    def upload_attachments(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """Make sure the platform holds every attachment of ``items``.

        Returns the items still to send: an item whose attachment the platform refuses
        for good is dead-lettered here. A retryable failure puts the whole batch back and
        stops the cycle.
        """
        refused: dict[str, str] = {}
        done: set[str] = set()
        for item in items:
            for attachment in item.attachments:
                sha = attachment.sha256
                if attachment.uploaded or sha in done or sha in refused:
                    continue
                try:
                    self.upload_one(sha)
                    done.add(sha)
                except RetryableError as exc:
                    self.retry_all(items, exc)
                    raise _StopCycle("network") from exc
                except PermanentError as exc:
                    self.stop_unless_about_content(items, exc)
                    refused[sha] = str(exc)
                except UnknownSubmission as exc:
                    refused[sha] = f"attachment content is missing on this terminal ({exc})"
        keep: list[OutboxItem] = []
        for item in items:
            problems = [refused[a.sha256] for a in item.attachments if a.sha256 in refused]
            if problems and not item.is_test:
                self.bury(item, f"attachment refused: {problems[0]}")
            else:
                keep.append(item)
        return keep

    def upload_one(self, sha256: str) -> None:
        """Upload one sealed attachment, resuming where the platform stands."""
        path = f"{protocol.API_PREFIX}/attachments/{sha256}"
        status = parse_answer(self.client.get(path), protocol.AttachmentStatus)
        if not status.complete:
            sealed = self.store.sealed_attachment(sha256)
            # Resume a partial upload of ours; but a platform killed after the last byte and
            # before verifying it holds every byte yet "incomplete": only a fresh upload
            # (offset 0) makes it finish, resuming at the end would send nothing forever.
            resumable = status.length == len(sealed) and status.received < len(sealed)
            offset = status.received if resumable else 0
            try:
                status = self._send_from(path, sealed, offset)
            except PermanentError as exc:
                if offset == 0 or exc.status not in (409, 422):
                    raise
                # The partial upload does not fit ours (or did not open): start over once.
                log.info("attachment %s: restarting its upload from 0 (%s)", sha256[:12], exc)
                status = self._send_from(path, sealed, 0)
            if not status.complete:
                raise RetryableError(f"attachment {sha256[:12]} is not complete after upload")
        self.store.mark_attachment_uploaded(sha256, now=self.clock())
        self.report.attachments_uploaded += 1

    def _send_from(self, path: str, sealed: bytes, offset: int) -> protocol.AttachmentStatus:
        total = len(sealed)
        chunk = protocol.MAX_CHUNK_BYTES
        if offset == 0 and total <= chunk:
            return parse_answer(self.client.put_bytes(path, sealed), protocol.AttachmentStatus)
        status: protocol.AttachmentStatus | None = None
        while offset < total:
            piece = sealed[offset : offset + chunk]
            answer = self.client.request(
                "PATCH",
                path,
                data=piece,
                headers={
                    "Content-Type": "application/octet-stream",
                    protocol.UPLOAD_OFFSET_HEADER: str(offset),
                    protocol.UPLOAD_LENGTH_HEADER: str(total),
                },
            )
            status = parse_answer(answer, protocol.AttachmentStatus)
            if status.complete:
                return status
            offset = status.received
        assert status is not None
        return status

    # --- pull -------------------------------------------------------------------------

    def pull_status(self) -> None:
        """Pull case status changes after the stored cursor into the status cache."""
        cursor = int(self.store.get_setting(STATUS_CURSOR_SETTING, "0") or 0)
        for _ in range(MAX_STATUS_PAGES):
            try:
                page = self.client.status_changes(cursor)
            except ClientError as exc:
                self.report.errors.append(f"case status not updated: {exc}")
                return
            if page.changes:
                statuses = [
                    CaseStatus(
                        receipt_no=change.receipt_no,
                        case_no=change.case_no,
                        status=change.status,
                        updated_at=change.changed_at,
                        note=change.note,
                    )
                    for change in page.changes
                ]
                with self.store.transaction():
                    self.store.save_case_statuses(statuses)
                    self.store.set_setting(STATUS_CURSOR_SETTING, str(page.next_cursor))
                self.report.status_changes += len(statuses)
            if page.next_cursor <= cursor or not page.has_more:
                return
            cursor = page.next_cursor

    def pull_catalog(self) -> None:
        """Fetch the catalog if it changed; verify and apply it, or keep the current one."""
        root = self.options.catalog_root
        assert root is not None
        enrolment = self.store.enrolment()
        in_use = current_catalog(root)
        self.report.catalog_version = in_use.version if in_use else None
        if in_use is not None:
            # A worker killed between switching the catalog and recording it left the store
            # (and its audit log) one version behind the folder: catch up first.
            self.record_catalog(in_use.version, in_use.etag, in_use.path, caught_up=True)
        if enrolment is None:
            self.report.catalog = "skipped"
            return
        try:
            fetched = self.client.get_catalog(in_use.etag if in_use else None)
        except ClientError as exc:
            self.report.catalog = "failed"
            self.report.errors.append(f"catalog not checked: {exc}")
            return
        if fetched is None:
            self.report.catalog = "unchanged"
            return
        bundle, etag = fetched
        if in_use is not None and bundle.version == in_use.version:
            self.report.catalog = "unchanged"
            return
        try:
            applied = apply_bundle(
                bundle,
                enrolment.catalog_signing_key,
                root,
                etag=etag,
                validate=self.options.validate_catalog,
            )
        except CatalogRejected as exc:
            log.error("catalog update refused, keeping the catalog in use: %s", exc)
            self.report.catalog = "rejected"
            self.report.errors.append(f"catalog update refused: {exc}")
            return
        except OSError as exc:
            log.error("catalog update could not be written, keeping the one in use: %s", exc)
            self.report.catalog = "failed"
            self.report.errors.append(f"catalog update could not be written: {exc}")
            return
        self.record_catalog(applied.version, etag, applied.path)
        self.report.catalog = "updated"
        self.report.catalog_version = applied.version


    def record_catalog(
        self, version: str, etag: str | None, path: Path, *, caught_up: bool = False
    ) -> None:
        """Record (and audit) the catalog in use, unless the store already names it."""
        recorded = self.store.current_catalog_version()
        if recorded is not None and recorded.version == version:
            return
        if caught_up:
            log.warning("catalog %s was in use but not recorded (an interrupted update); "
                        "recording it now", version[:12])
        self.store.record_catalog_version(version, etag=etag, path=path, now=self.clock())


def _wire_item(item: OutboxItem) -> protocol.SubmissionItem:
    return protocol.SubmissionItem(
        submission_id=item.submission_id,
        service_id=item.service_id,
        form_version=item.form_version,
        receipt_no=item.receipt_no,
        created_at=item.created_at,
        is_test=item.is_test,
        sealed_payload=protocol.b64encode(item.sealed_payload),
        attachments=list(item.attachment_sha256s),
        agent_id=item.agent_id,
    )


def _wire_size(item: OutboxItem) -> int:
    return (len(item.sealed_payload) * 4) // 3 + 70 * len(item.attachments) + _ITEM_OVERHEAD_BYTES


def _split_by_size(items: list[OutboxItem]) -> list[list[OutboxItem]]:
    """Split claimed items into batches that stay under the platform's body limit."""
    batches: list[list[OutboxItem]] = []
    current: list[OutboxItem] = []
    size = 0
    for item in items:
        item_size = _wire_size(item)
        if current and size + item_size > _BATCH_BYTES_BUDGET:
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        batches.append(current)
    return batches


def _rejection_text(result: protocol.ItemResult) -> str:
    """One line for staff: reason, detail and the fields at fault (never values)."""
    text = result.reason or "rejected"
    if result.detail:
        text += f": {result.detail}"
    if result.errors:
        fields = ", ".join(f"{e.field} ({e.code})" for e in result.errors[:10])
        text += f" [{fields}]"
    return text
