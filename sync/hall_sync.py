"""Syncing the hall's records: check-ins and tickets, ratings and audit entries; help requests.

Each kind of record has a ``synced_at`` column on the terminal: a record is sent until the
platform acknowledges it (``accepted``, or ``duplicate`` for one it already holds), then
never again. The platform stores each record once under its key (check-in UUID, or the
device and the local rating / audit sequence number), so a batch whose answer was lost
is simply sent again: exactly once in effect. A record the platform refuses for good (a
check-in whose appointment another terminal used first) keeps the reason in
``sync_error`` and is not sent again; staff see it.

:func:`sync_hall` runs inside the sync engine's cycle (under the sync lock), after the
submissions; :func:`raise_help_request` is the kiosk's "call staff" button.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

import uuid_utils

from sync import audit
from sync.client import CentralClient, ClientError
from sync.protocol import (
    CheckinItem,
    HelpRequestCreate,
    RatingItem,
    RecordRejectReason,
    RecordResult,
    RecordStatus,
)
from sync.store import Store
from sync.store_common import from_db_time, to_db_time, utc_now

log = logging.getLogger(__name__)

BATCH = 200
MAX_BATCHES = 50  # per kind and cycle: a long backlog drains over a few cycles
USED_CURSOR_SETTING = "sync.used_appointments_cursor"
HELP_TIMEOUT_SECONDS = 3.0


@dataclass
class HallSyncReport:
    """What :func:`sync_hall` did; ``errors`` holds one line per problem (no personal data)."""

    checkins: int = 0
    ratings: int = 0
    audit_entries: int = 0
    refused: int = 0
    used_appointments: int = 0
    errors: list[str] = field(default_factory=list)


def _done(result: RecordResult) -> bool:
    return result.status in (RecordStatus.ACCEPTED, RecordStatus.DUPLICATE)


def sync_hall(store: Store, client: CentralClient, *, now: datetime | None = None) -> HallSyncReport:
    """Push unsent check-ins, ratings and audit entries; pull used appointments.

    Never raises for network or platform trouble: it ends up in ``errors`` and what was
    not acknowledged is sent next time.
    """
    report = HallSyncReport()
    for name, step in (("check-ins", _push_checkins), ("ratings", _push_ratings),
                       ("audit log", _push_audit), ("used appointments", _pull_used)):
        try:
            step(store, client, report, now)
        except ClientError as exc:
            report.errors.append(f"{name} not synced: {exc}")
            log.info("hall sync: %s not synced: %s", name, exc)
    return report


def _push_checkins(store: Store, client: CentralClient, report: HallSyncReport, now: datetime | None) -> None:
    for _ in range(MAX_BATCHES):
        with store.reading() as db:
            rows = db.execute(
                "SELECT id, kind, appointment_id, service_id, category, ticket_no, created_at "
                "FROM checkins WHERE synced_at IS NULL AND sync_error IS NULL ORDER BY id LIMIT ?",
                (BATCH,),
            ).fetchall()
        if not rows:
            return
        items = [
            CheckinItem(checkin_id=r[0], kind=r[1], appointment_id=r[2], service_id=r[3],
                        category=r[4], ticket_no=r[5], checked_in_at=from_db_time(r[6]))
            for r in rows
        ]
        results = client.push_checkins(items).results
        at = to_db_time(now or utc_now())
        with store.transaction() as db:
            for result in results:
                if _done(result):
                    db.execute("UPDATE checkins SET synced_at = ? WHERE id = ?", (at, result.id))
                    report.checkins += 1
                else:
                    reason = f"{result.reason or 'rejected'}: {result.detail or ''}".strip(": ")
                    db.execute("UPDATE checkins SET sync_error = ? WHERE id = ?", (reason[:500], result.id))
                    report.refused += 1
                    report.errors.append(f"check-in {result.id} refused: {reason}")
                    log.warning("check-in %s refused by the platform: %s", result.id, reason)


def _push_ratings(store: Store, client: CentralClient, report: HallSyncReport, now: datetime | None) -> None:
    for _ in range(MAX_BATCHES):
        with store.reading() as db:
            rows = db.execute(
                "SELECT id, service_id, receipt_no, score, tags, created_at FROM ratings "
                "WHERE synced_at IS NULL ORDER BY id LIMIT ?",
                (BATCH,),
            ).fetchall()
        if not rows:
            return
        items = [
            RatingItem(rating_id=r[0], service_id=r[1], receipt_no=r[2], score=r[3],
                       tags=json.loads(r[4]), created_at=from_db_time(r[5]))
            for r in rows
        ]
        results = client.push_ratings(items).results
        at = to_db_time(now or utc_now())
        with store.transaction() as db:
            for result in results:
                # A rating the platform refuses (invalid) would be refused forever: mark it
                # as handled too, with the refusal in the log.
                if not _done(result):
                    report.refused += 1
                    log.warning("rating %s refused by the platform: %s", result.id, result.detail)
                else:
                    report.ratings += 1
                db.execute("UPDATE ratings SET synced_at = ? WHERE id = ?", (at, int(result.id)))


def _push_audit(store: Store, client: CentralClient, report: HallSyncReport, now: datetime | None) -> None:
    for _ in range(MAX_BATCHES):
        entries = audit.unsynced(store, BATCH)
        if not entries:
            return
        results = client.push_audit([e.wire() for e in entries]).results
        stored: list[int] = []
        for result in results:
            # chain_broken entries are stored by the platform all the same (as evidence).
            if _done(result) or result.reason == RecordRejectReason.CHAIN_BROKEN:
                stored.append(int(result.id))
            if result.reason == RecordRejectReason.CHAIN_BROKEN:
                report.errors.append(f"audit entry {result.id}: the platform found the chain broken")
                log.error("the platform found this terminal's audit chain broken at entry %s", result.id)
        audit.mark_synced(store, stored, now=now)
        report.audit_entries += len(stored)
        if len(stored) < len(results):
            return  # refused for another reason: do not loop on the same entries


def _pull_used(store: Store, client: CentralClient, report: HallSyncReport, now: datetime | None) -> None:
    cursor = int(store.get_setting(USED_CURSOR_SETTING, "0") or 0)
    for _ in range(MAX_BATCHES):
        page = client.used_appointments(cursor)
        if page.items:
            with store.transaction() as db:
                for item in page.items:
                    db.execute(
                        "INSERT OR IGNORE INTO used_appointments (appointment_id, used_at) VALUES (?, ?)",
                        (item.appointment_id, to_db_time(item.used_at)),
                    )
                store.set_setting(USED_CURSOR_SETTING, str(page.next_cursor))
            report.used_appointments += len(page.items)
        if page.next_cursor <= cursor or not page.has_more:
            return
        cursor = page.next_cursor


# --- help requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HelpRaised:
    """A help request raised at this terminal.

    ``delivered`` says whether the platform (and so the hall's agent stations) got it;
    when it is False the screen should say "please go to the help desk".
    """

    request_id: str
    delivered: bool
    error: str | None = None


def raise_help_request(
    store: Store,
    client: CentralClient | None,
    *,
    reason: str = "assistance",
    now: datetime | None = None,
) -> HelpRaised:
    """Record a "call staff" request and try once to deliver it to the platform.

    It is not queued for later: a request delivered minutes late would send staff to a
    citizen who has gone. ``client`` ``None`` (offline mode) records it undelivered.
    """
    now = now or utc_now()
    request_id = str(uuid_utils.uuid7())
    with store.transaction() as db:
        db.execute(
            "INSERT INTO help_requests (id, reason, raised_at) VALUES (?, ?, ?)",
            (request_id, reason[:64], to_db_time(now)),
        )
    if client is None:
        return HelpRaised(request_id, False, "offline")
    try:
        client.raise_help_request(HelpRequestCreate(request_id=request_id, raised_at=now, reason=reason[:64]))
    except ClientError as exc:
        log.warning("help request %s not delivered: %s", request_id, exc)
        return HelpRaised(request_id, False, str(exc))
    with store.transaction() as db:
        db.execute("UPDATE help_requests SET delivered_at = ? WHERE id = ?", (to_db_time(utc_now()), request_id))
    log.info("help request %s delivered", request_id)
    return HelpRaised(request_id, True)
