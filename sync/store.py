"""The terminal's local store: one SQLite database per terminal, and its public API.

:func:`open_store` opens (and creates, and migrates) the database; the :class:`Store` it
returns is the one handle the application, the CLI and the sync engine use. Every write
runs in a ``BEGIN IMMEDIATE`` transaction with ``synchronous=FULL``: when a method
returns, what it wrote survives a crash or a power cut. That is the queue's promise to
the citizen: once the screen says "submitted", the submission is on disk.

Connection settings: WAL journal (readers never block the writer), ``synchronous=FULL``,
``foreign_keys=ON``, ``busy_timeout`` (another process's write makes us wait, not fail).

A ``Store`` may be shared between threads (calls are serialised by a lock), but each
thread opening its own ``Store`` on the same file is just as safe and lets reads overlap.

The API by area:

* enrolment: :meth:`Store.enrolment`, :meth:`Store.require_enrolment`,
  :meth:`Store.save_enrolment`
* submitting: :meth:`Store.enqueue`
* the sync engine: :meth:`Store.sync_lock`, :meth:`Store.claim_batch`,
  :meth:`Store.release_claims`, :meth:`Store.mark_accepted`, :meth:`Store.mark_retry`,
  :meth:`Store.mark_dead`, :meth:`Store.sealed_attachment`,
  :meth:`Store.mark_attachment_uploaded`, :meth:`Store.counts`, :meth:`Store.transaction`,
  :meth:`Store.save_case_statuses`, :meth:`Store.get_setting` / :meth:`Store.set_setting`,
  :meth:`Store.record_catalog_version`
* staff and CLI: :meth:`Store.list_queue`, :meth:`Store.find`, :meth:`Store.retry_dead`,
  :meth:`Store.case_status`, :meth:`Store.audit_entries`
* upkeep: :meth:`Store.purge_sealed`, :meth:`Store.integrity_check`

A full disk never corrupts the queue (SQLite rolls a failed write back), but a kiosk that
runs out of space in the middle of a citizen's submission helps nobody: :meth:`Store.enqueue`
refuses a new submission with :class:`StorageFull` while the data folder's disk has less
free space than the store's reserve (``min_free_mb`` of :func:`open_store`), so the
submissions already queued, the sync engine's bookkeeping and the logs keep room to work.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from sync import enrolment as _enrolment
from sync import outbox as _outbox
from sync.enrolment import Enrolment
from sync.lock import SYNC_LOCK_FILE_NAME, sync_lock
from sync.migrations import migrate
from sync.outbox import AttachmentInput, OutboxItem, QueueEntry
from sync.receipt import InvalidReceiptNumber, ReceiptNumber
from sync.store_common import (
    StorageFull,
    StoreError,
    from_db_time,
    to_db_time,
    utc_now,
    write_audit,
)
from sync.submission import EnqueuedSubmission

log = logging.getLogger(__name__)

DATABASE_FILE_NAME = "tongban.db"
BUSY_TIMEOUT_MS = 10_000
# How long a claimed item stays "sending" before another worker may take it over. Long
# enough for a batch with large attachments on a slow line; only a crashed worker's
# items ever wait this long (the sync lock excludes a second live worker).
DEFAULT_LEASE = timedelta(minutes=15)
# Free space (MB) kept on the data folder's disk: below it, new submissions are refused.
DEFAULT_MIN_FREE_MB = 100
# Below this much free space a database that fails to open is taken as "disk full".
_FULL_DISK_BYTES = 1_000_000
# The name of the setting in the kiosk's configuration, for the technician's message.
MIN_FREE_SETTING = "[store] min_free_disk_mb"


def database_path(data_dir: Path) -> Path:
    """Where the terminal's database lives in its data folder."""
    return data_dir / DATABASE_FILE_NAME


def open_store(path: Path, *, min_free_mb: float = DEFAULT_MIN_FREE_MB) -> Store:
    """Open the terminal's database at ``path``, creating and migrating it as needed.

    ``min_free_mb`` is the reserve: :meth:`Store.enqueue` refuses new submissions while the
    disk holding ``path`` has less free space than this (0 turns the check off).

    Raises:
        StoreError: the file is not a usable database, cannot be opened, or was written by
            a newer Tongban; the message names the file and the fix.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    try:
        db = Database(conn, execute_plugins=False)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        free = _free_bytes(path.parent)
        if free < _FULL_DISK_BYTES:
            # SQLite says "disk I/O error" when it cannot even set up its WAL files: the
            # database is fine, and moving it aside (the advice below) would hide the queue.
            raise StorageFull(
                f"cannot open database {path}: the disk of the data folder {path.parent} is "
                f"full ({free:,} bytes free; {exc}). The database is not damaged: do not move "
                f"it; free space on that disk and restart"
            ) from exc
        raise StoreError(
            f"database {path} is damaged or not a Tongban database ({exc}); "
            "move it aside and restart (the queue in it cannot be sent until it is repaired)"
        ) from exc
    except BaseException:
        conn.close()
        raise
    log.debug("Store %s open", path)
    return Store(path, db, min_free_bytes=int(min_free_mb * 1_000_000))


@dataclass(frozen=True)
class CaseStatus:
    """The last known status of a case, as pulled from the central platform."""

    receipt_no: str
    case_no: str | None
    status: str
    updated_at: datetime
    note: str | None = None


@dataclass(frozen=True)
class CatalogVersion:
    """A catalog bundle the terminal applied: its version, ETag and folder."""

    version: str
    etag: str | None
    path: str | None
    applied_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    at: datetime
    actor: str
    action: str
    submission_id: str | None
    detail: str | None


class Store:
    """A handle on one terminal database; made by :func:`open_store`."""

    def __init__(self, path: Path, db: Database, *, min_free_bytes: int = 0) -> None:
        self._path = path
        self._db = db
        self._min_free_bytes = min_free_bytes
        self._lock = threading.RLock()
        self._depth = 0

    # --- the handle --------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def db(self) -> Database:
        """The sqlite-utils database, for read-only inspection (tests, diagnostics)."""
        return self._db

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One durable write transaction; Store methods called inside join it.

        Use it to group many outbox updates into one commit (one fsync), e.g. recording
        the results of a pushed batch::

            with store.transaction():
                for result in results:
                    store.mark_accepted(result.submission_id, result.case_no)

        Nested use becomes a savepoint. On an exception everything is rolled back.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    with self._db.atomic():  # a savepoint inside the open transaction
                        yield self._db
                finally:
                    self._depth -= 1
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            self._depth = 1
            try:
                yield self._db
            except BaseException as exc:
                self._depth = 0
                self._db.rollback()
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from exc
                raise
            self._depth = 0
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.rollback()
                raise self._error(exc) from exc

    def reading(self) -> AbstractContextManager[Database]:
        """Read-only access to the database, serialised with this handle's other calls.

        For the store's companion modules (:mod:`sync.audit`, :mod:`sync.staff`,
        :mod:`sync.checkin`...); writes go through :meth:`transaction`.
        """
        return self._reading()

    def audit(
        self,
        action: str,
        *,
        actor: str = "system",
        submission_id: str | None = None,
        detail: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Append one hash-chained entry to the audit log (no personal data in ``detail``)."""
        with self.transaction() as db:
            write_audit(db, now or utc_now(), action, actor=actor, submission_id=submission_id,
                        detail=detail)

    @contextmanager
    def _reading(self) -> Iterator[Database]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> StoreError:
        """A database failure as a StoreError naming the file (disk full, locked, damaged)."""
        log.error("Store %s: %s", self._path, exc)
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            free = _free_bytes(self._path.parent)
            return StorageFull(
                f"database {self._path} failed: the disk is full ({exc}); "
                f"{free / 1_000_000:,.1f} MB free on the disk of the data folder "
                f"{self._path.parent}. Nothing was written and the queue is intact; free space "
                f"there (old receipts and logs may go) and check {MIN_FREE_SETTING}"
            )
        return StoreError(f"database {self._path} failed: {exc}")

    def check_free_space(self, needed_bytes: int = 0) -> None:
        """Raise :class:`StorageFull` unless ``needed_bytes`` more still leave the reserve free."""
        if self._min_free_bytes <= 0:
            return
        free = _free_bytes(self._path.parent)
        if free - needed_bytes >= self._min_free_bytes:
            return
        log.error("Store %s: refusing a new submission, %d bytes free (reserve %d)",
                  self._path, free, self._min_free_bytes)
        raise StorageFull(
            f"not accepting new submissions: only {free / 1_000_000:,.1f} MB free on the disk "
            f"of the data folder {self._path.parent}, below the reserve of "
            f"{self._min_free_bytes / 1_000_000:,.0f} MB ({MIN_FREE_SETTING}). The queued "
            "submissions are safe and keep syncing; free space on that disk (old receipts "
            "and logs may go) and submissions are accepted again at once"
        )

    def sync_lock(self) -> AbstractContextManager[None]:
        """The single-sync-worker lock of this database (``sync.lock`` beside it).

        ``with store.sync_lock(): ...`` raises :class:`sync.lock.SyncBusy` at once when
        another worker, in this or another process, is syncing.
        """
        return sync_lock(self._path.parent / SYNC_LOCK_FILE_NAME)

    def integrity_check(self) -> list[str]:
        """SQLite's ``PRAGMA integrity_check``: ``["ok"]`` for a sound database."""
        with self._reading() as db:
            return [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]

    # --- enrolment ---------------------------------------------------------------------

    def enrolment(self) -> Enrolment | None:
        """The terminal's enrolment, or ``None`` if it was never enrolled."""
        with self._reading() as db:
            return _enrolment.load_enrolment(db)

    def require_enrolment(self) -> Enrolment:
        """The terminal's enrolment; raises :class:`sync.enrolment.NotEnrolled`."""
        with self._reading() as db:
            return _enrolment.require_enrolment(db)

    def save_enrolment(self, enrolment: Enrolment, *, now: datetime | None = None) -> None:
        """Store a new enrolment (replacing any previous one); audited, token not logged."""
        now = now or utc_now()
        with self.transaction() as db:
            _enrolment.save_enrolment(db, enrolment, now)
            write_audit(db, now, "enrolled", detail=f"{enrolment.site_code}-{enrolment.device_code}")

    # --- submitting --------------------------------------------------------------------

    def enqueue(
        self,
        service_id: str,
        form_version: str,
        answers: Mapping[str, Any],
        *,
        attachments: Sequence[AttachmentInput] = (),
        is_test: bool = False,
        service_name: Mapping[str, str] | str | None = None,
        now: datetime | None = None,
        actor: str = "kiosk",
        agent_id: str | None = None,
        session_seconds: float | None = None,
    ) -> EnqueuedSubmission:
        """Commit one submission durably and return its id and receipt number.

        In ONE transaction: seals ``answers`` (as ``{"answers": ...}``) and each attachment
        to the enrolled central platform's key, writes the submission with a masked
        summary (from the well-known fields ``name``, ``id_number``, ``mobile``), its
        attachment records, its ``pending`` outbox row and an audit entry, and allocates
        the next receipt number of the day. Either all of it is on disk when this returns,
        or none of it is. Print the receipt only after it returns.

        ``attachments`` are :class:`sync.submission.Attachment` or ``(bytes, mime, name)``
        tuples; every attachment reference in ``answers`` (``{"sha256", "size", "mime",
        "name"}``) must have its content here and every file must be referenced.
        ``service_name`` (``{"zh_CN": ..., "en": ...}``) goes into the summary. ``now`` must be
        timezone-aware; the receipt's date is the terminal's local date of ``now``.

        ``agent_id`` is the staff account submitting on the citizen's behalf (代办): it is
        kept in the clear summary, sealed into the payload's ``meta`` (so the platform
        knows it from the citizen's sealed data, not only from the wire), sent with the
        item, and audited as ``submit-on-behalf`` under that account. ``session_seconds``
        (how long the citizen's session took) goes into the summary for the daily report.

        Raises:
            NotEnrolled: the terminal has no enrolment (no key to seal to, no receipt codes).
            AttachmentMismatch: attachments and references in ``answers`` disagree.
            StorageFull: the data folder's disk is below the reserve (checked first, so
                nothing is written) or filled up during the write (rolled back).
            StoreError: the database refused the write.
        """
        now = now or utc_now()
        self.check_free_space(_estimated_size(answers, attachments))
        with self.transaction() as db:
            result = _outbox.enqueue(
                db,
                service_id=service_id,
                form_version=form_version,
                answers=answers,
                attachments=attachments,
                is_test=is_test,
                now=now,
                service_name=service_name,
                actor=agent_id or actor,
                agent_id=agent_id,
                session_seconds=session_seconds,
            )
        log.info(
            "Submission %s committed: receipt %s, service %s%s",
            result.submission_id, result.receipt_no, service_id, " (test)" if is_test else "",
        )
        return result

    # --- the sync engine's side ------------------------------------------------------------

    def claim_batch(
        self, limit: int, now: datetime | None = None, *, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` items to send, oldest due first, and mark them ``sending``.

        Returns ``pending`` items whose ``next_attempt_at <= now``, plus ``sending`` items
        whose lease ran out (their worker crashed), in one transaction, so two claimers
        never get the same item. Each claim adds one to ``attempts`` and leases the item
        until ``now + lease``. Settle every claimed item with :meth:`mark_accepted`,
        :meth:`mark_retry` or :meth:`mark_dead`.
        """
        now = now or utc_now()
        with self.transaction() as db:
            return _outbox.claim_batch(db, limit, now, lease)

    def release_claims(self, now: datetime | None = None) -> int:
        """Return every ``sending`` item to ``pending`` at once; returns how many.

        Call it right after taking :meth:`sync_lock`: holding the lock proves no other
        worker is sending, so items left ``sending`` belong to a crashed worker and need
        not wait for their lease.
        """
        with self.transaction() as db:
            return _outbox.release_claims(db, now or utc_now())

    def mark_accepted(
        self, submission_id: str, case_no: str, *, now: datetime | None = None
    ) -> bool:
        """Central accepted the item (a "duplicate" answer counts too) as case ``case_no``.

        Final: allowed from any state. Returns ``False`` if it was already accepted (the
        first case number is kept). Raises :class:`sync.outbox.UnknownSubmission`.
        """
        with self.transaction() as db:
            return _outbox.mark_accepted(db, submission_id, case_no, now or utc_now())

    def mark_retry(
        self,
        submission_id: str,
        error: str,
        next_attempt_at: datetime,
        *,
        now: datetime | None = None,
    ) -> bool:
        """Sending failed in a way worth retrying: back to ``pending`` until ``next_attempt_at``.

        ``error`` (no personal data) is shown to staff. Returns ``False`` (and changes
        nothing) if the item is already ``accepted`` or ``dead``.
        """
        with self.transaction() as db:
            return _outbox.mark_retry(
                db, submission_id, error, next_attempt_at, now or utc_now()
            )

    def mark_dead(self, submission_id: str, reason: str, *, now: datetime | None = None) -> bool:
        """Central rejected the item: move it to the dead letters with ``reason``.

        It is no longer claimed until staff :meth:`retry_dead` it. Audited. Returns
        ``False`` if it was already ``accepted`` (never downgraded) or ``dead``.
        """
        with self.transaction() as db:
            return _outbox.mark_dead(db, submission_id, reason, now or utc_now())

    def sealed_attachment(self, sha256: str) -> bytes:
        """The sealed bytes to upload for the attachment with plaintext hash ``sha256``.

        Raises :class:`sync.outbox.UnknownSubmission` if it is not stored (or was purged).
        """
        with self._reading() as db:
            return _outbox.sealed_attachment(db, sha256)

    def mark_attachment_uploaded(self, sha256: str, *, now: datetime | None = None) -> int:
        """Central holds the attachment ``sha256`` (verified): skip it on later pushes."""
        with self.transaction() as db:
            return _outbox.mark_attachment_uploaded(db, sha256, now or utc_now())

    def counts(self) -> dict[str, int]:
        """Items per outbox state: pending, sending, accepted, dead, cancelled (all keys)."""
        with self._reading() as db:
            return _outbox.counts(db)

    # --- staff and CLI -------------------------------------------------------------------

    def list_queue(
        self, states: Iterable[str] | None = None, *, limit: int | None = None
    ) -> list[QueueEntry]:
        """Submissions with their outbox state, oldest first; optionally only ``states``."""
        with self._reading() as db:
            return _outbox.list_entries(db, states, limit)

    def find(self, key: str) -> QueueEntry:
        """The submission with this id (or 8+ character prefix), receipt or case number.

        Receipt numbers are read tolerantly (lower case, spaces, missing dashes).
        Raises :class:`sync.outbox.UnknownSubmission`.
        """
        with self._reading() as db:
            return _outbox.find_entry(db, key)

    def retry_dead(
        self,
        submission_id: str,
        reason_text: str,
        *,
        actor: str = "staff",
        now: datetime | None = None,
    ) -> None:
        """Queue a dead letter again (after its cause is fixed); recorded in the audit log.

        Resets ``attempts`` so backoff starts afresh; due at once. Raises
        :class:`sync.outbox.OutboxError` if the item is not dead.
        """
        with self.transaction() as db:
            _outbox.retry_dead(db, submission_id, reason_text, now or utc_now(), actor)

    def cancel_dead(
        self,
        submission_id: str,
        reason_text: str,
        *,
        actor: str,
        now: datetime | None = None,
    ) -> None:
        """Give up on a dead letter (state ``cancelled``, never sent); audited with the reason.

        Check the actor's role first (:func:`sync.staff.cancel_dead_letter` does). Raises
        :class:`sync.outbox.OutboxError` if the item is not dead, ``ValueError`` without a reason.
        """
        if not reason_text.strip():
            raise ValueError("cancelling a dead letter needs a reason")
        with self.transaction() as db:
            _outbox.cancel_dead(db, submission_id, reason_text.strip(), now or utc_now(), actor)

    def audit_entries(self, submission_id: str | None = None) -> list[AuditEntry]:
        """The audit log, oldest first; only one submission's entries if given."""
        sql = "SELECT at, actor, action, submission_id, detail FROM audit_log"
        params: list[Any] = []
        if submission_id is not None:
            sql += " WHERE submission_id = ?"
            params.append(submission_id)
        with self._reading() as db:
            rows = db.execute(sql + " ORDER BY id", params).fetchall()
        return [AuditEntry(from_db_time(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    # --- case status cache ------------------------------------------------------------------

    def save_case_statuses(self, statuses: Iterable[CaseStatus]) -> int:
        """Store status changes pulled from central (newer replaces older per receipt)."""
        count = 0
        with self.transaction() as db:
            for status in statuses:
                receipt_no = _canonical_receipt(status.receipt_no)
                db.execute(
                    "INSERT INTO case_status (receipt_no, case_no, status, updated_at, note) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(receipt_no) DO UPDATE SET "
                    "case_no = excluded.case_no, status = excluded.status, "
                    "updated_at = excluded.updated_at, note = excluded.note "
                    "WHERE excluded.updated_at >= case_status.updated_at",
                    (receipt_no, status.case_no, status.status,
                     to_db_time(status.updated_at), status.note),
                )
                count += 1
        return count

    def case_status(self, key: str) -> CaseStatus | None:
        """The cached status for a receipt number (read tolerantly) or case number."""
        receipt_no = _canonical_receipt(key)
        with self._reading() as db:
            row = db.execute(
                "SELECT receipt_no, case_no, status, updated_at, note FROM case_status "
                "WHERE receipt_no = ? OR case_no = ? LIMIT 1",
                (receipt_no, key.strip()),
            ).fetchone()
        if row is None:
            return None
        return CaseStatus(row[0], row[1], row[2], from_db_time(row[3]), row[4])

    # --- settings, catalog versions, ratings ------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        """A stored setting (sync cursors, ETags); ``default`` when absent."""
        with self._reading() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set_setting(self, key: str, value: str, *, now: datetime | None = None) -> None:
        """Store a setting durably (replacing its previous value)."""
        if key == _enrolment.SETTING_KEY:
            raise ValueError("the enrolment is written with save_enrolment()")
        with self.transaction() as db:
            db.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, value, to_db_time(now or utc_now())),
            )

    def record_catalog_version(
        self,
        version: str,
        *,
        etag: str | None = None,
        path: Path | str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Record that the catalog ``version`` (from ``path``) is now the one in use."""
        now = now or utc_now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO catalog_versions (version, etag, path, applied_at) VALUES (?, ?, ?, ?)",
                (version, etag, str(path) if path is not None else None, to_db_time(now)),
            )
            write_audit(db, now, "catalog-applied", detail=f"{version} {etag or ''}".strip())

    def current_catalog_version(self) -> CatalogVersion | None:
        """The catalog applied last, or ``None`` if only the shipped one was ever used."""
        with self._reading() as db:
            row = db.execute(
                "SELECT version, etag, path, applied_at FROM catalog_versions "
                "ORDER BY id DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        return CatalogVersion(row[0], row[1], row[2], from_db_time(row[3]))

    def record_rating(
        self,
        service_id: str,
        score: int,
        *,
        receipt_no: str | None = None,
        tags: Sequence[str] = (),
        now: datetime | None = None,
    ) -> None:
        """Store a satisfaction rating (好差评), 1-5, with predefined tags (no free text)."""
        if not 1 <= score <= 5:
            raise ValueError(f"rating score must be 1..5, got {score}")
        with self.transaction() as db:
            db.execute(
                "INSERT INTO ratings (service_id, receipt_no, score, tags, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (service_id, receipt_no, score, json.dumps(list(tags), ensure_ascii=False),
                 to_db_time(now or utc_now())),
            )

    # --- upkeep -------------------------------------------------------------------------

    def purge_sealed(self, accepted_before: datetime, *, now: datetime | None = None) -> int:
        """Delete sealed payloads and attachments of items accepted before the cut-off.

        Summaries stay for receipt look-ups. Returns how many submissions were purged.
        """
        now = now or utc_now()
        with self.transaction() as db:
            count = _outbox.purge_sealed(db, accepted_before, now)
            if count:
                write_audit(db, now, "purged", detail=f"{count} sealed payloads")
        return count


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def _estimated_size(answers: Mapping[str, Any], attachments: Sequence[AttachmentInput]) -> int:
    """About how many bytes a submission takes on disk (sealed, with WAL and index pages)."""
    content = sum(len(a[0]) if isinstance(a, tuple) else len(a.content) for a in attachments)
    text = len(json.dumps(answers, ensure_ascii=False, default=str).encode("utf-8"))
    # Written twice (WAL, then the database at checkpoint) plus sealing and page overhead.
    return 2 * (content + text) + 64 * 1024


def _canonical_receipt(text: str) -> str:
    try:
        return ReceiptNumber.validate(text)
    except InvalidReceiptNumber:
        return text.strip()


__all__ = [
    "DATABASE_FILE_NAME",
    "DEFAULT_LEASE",
    "DEFAULT_MIN_FREE_MB",
    "AuditEntry",
    "CaseStatus",
    "CatalogVersion",
    "StorageFull",
    "Store",
    "StoreError",
    "database_path",
    "open_store",
]
