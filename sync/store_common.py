"""What every part of the local store shares: its base error and how it writes time.

Times are stored as UTC text of fixed width (``2026-11-23T08:15:00.123456Z``) so that
SQLite compares them correctly as plain strings (``next_attempt_at <= ?``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlite_utils import Database

from sync.protocol import GENESIS_HASH, audit_entry_hash

_DB_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class StoreError(Exception):
    """The local store cannot do what was asked; the message names the file or record."""


class StorageFull(StoreError):
    """The data folder's disk is (nearly) full: a new submission was refused, nothing changed.

    Raised before the disk fills (free space below the configured reserve) and when SQLite
    itself reports ``SQLITE_FULL``; either way the transaction was not committed and the queue
    is intact. The message, for the technician, names the folder, the free space and the fix.
    """


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_db_time(moment: datetime) -> str:
    """Encode an aware datetime as the store's sortable UTC text.

    Raises:
        ValueError: ``moment`` has no timezone (a naive time would be ambiguous).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"store times must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC).strftime(_DB_TIME_FORMAT)


def from_db_time(text: str) -> datetime:
    """Decode the store's UTC text back into an aware datetime."""
    return datetime.strptime(text, _DB_TIME_FORMAT).replace(tzinfo=UTC)


def write_audit(
    db: Database,
    now: datetime,
    action: str,
    *,
    actor: str = "system",
    submission_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one entry to ``audit_log`` inside the caller's transaction, hash-chained.

    The entry's ``id`` is the next sequence number and its ``hash`` covers the previous
    entry's hash and its own fields (:func:`sync.protocol.audit_entry_hash`), so editing,
    deleting or reordering entries is detectable (:mod:`sync.audit`). The caller's write
    transaction (``BEGIN IMMEDIATE``) makes reading the last hash and appending atomic.

    ``detail`` must never hold personal data: receipt numbers, reasons and states only.
    """
    row = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    seq = (row[0] + 1) if row else 1
    prev_hash = (row[1] or GENESIS_HASH) if row else GENESIS_HASH
    at = to_db_time(now)
    digest = audit_entry_hash(prev_hash, seq, at, actor, action, submission_id, detail)
    db.execute(
        "INSERT INTO audit_log (id, at, actor, action, submission_id, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, actor, action, submission_id, detail, prev_hash, digest),
    )
