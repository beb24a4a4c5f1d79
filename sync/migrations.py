"""The local store's schema, as forward-only migrations run when the store opens.

Each migration has a number; ``schema_version`` records the ones applied. A migration is
never edited once released: a change to the schema is a new migration appended to
:data:`MIGRATIONS`. Each runs in its own ``BEGIN IMMEDIATE`` transaction together with
its ``schema_version`` row, so a crash mid-migration leaves the previous version intact
and two processes opening the same file at once apply it only once.

A database whose version is higher than this code knows was written by a newer Tongban;
it is refused rather than half understood.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from sync.protocol import GENESIS_HASH, audit_entry_hash
from sync.store_common import StoreError, to_db_time, utc_now

log = logging.getLogger(__name__)

VERSION_TABLE = "schema_version"


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its number, what it does, and the function that does it."""

    version: int
    description: str
    apply: Callable[[Database], None]


def _v1_initial(db: Database) -> None:
    db[VERSION_TABLE].create(
        {"version": int, "description": str, "applied_at": str},
        pk="version",
        not_null={"description", "applied_at"},
        strict=True,
    )
    # Settings: small key/value facts of this terminal (enrolment, sync cursors, ETags).
    db["settings"].create(
        {"key": str, "value": str, "updated_at": str},
        pk="key",
        not_null={"value", "updated_at"},
        strict=True,
    )
    # One row per submission. Personal data exists only inside sealed_payload (sealed to
    # the central platform's key); summary holds masked values for staff.
    db["submissions"].create(
        {
            "id": str,  # UUIDv7, also the idempotency key on the wire
            "service_id": str,
            "form_version": str,
            "receipt_no": str,
            "created_at": str,
            "is_test": int,
            "sealed_payload": bytes,  # NULL once purged after acceptance
            "summary": str,  # JSON, masked values only
            "purged_at": str,
        },
        pk="id",
        not_null={"service_id", "form_version", "receipt_no", "created_at", "is_test", "summary"},
        strict=True,
    )
    db["submissions"].create_index(["receipt_no"], unique=True)
    db["attachments"].create(
        {
            "submission_id": str,
            "sha256": str,  # of the plaintext: how central addresses and verifies it
            "size": int,  # plaintext bytes
            "mime": str,
            "sealed": bytes,  # NULL once purged after acceptance
            "uploaded_at": str,
        },
        pk=("submission_id", "sha256"),
        not_null={"size", "mime"},
        foreign_keys=[("submission_id", "submissions", "id")],
        strict=True,
    )
    db["attachments"].create_index(["sha256"])
    db["outbox"].create(
        {
            "submission_id": str,
            "state": str,  # pending | sending | accepted | dead
            "attempts": int,
            "next_attempt_at": str,
            "lease_until": str,  # while sending: when a crashed worker's claim expires
            "last_error": str,
            "case_no": str,
            "accepted_at": str,
            "updated_at": str,
        },
        pk="submission_id",
        not_null={"state", "attempts", "next_attempt_at", "updated_at"},
        foreign_keys=[("submission_id", "submissions", "id")],
        strict=True,
    )
    db["outbox"].create_index(["state", "next_attempt_at"])
    # Per-day sequences for receipt numbers; rows are never reset or deleted, so a clock
    # that jumps back to a day already used continues that day's sequence.
    db["receipt_counters"].create(
        {"day": str, "last_sequence": int},
        pk="day",
        not_null={"last_sequence"},
        strict=True,
    )
    db["case_status"].create(
        {"receipt_no": str, "case_no": str, "status": str, "updated_at": str, "note": str},
        pk="receipt_no",
        not_null={"status", "updated_at"},
        strict=True,
    )
    db["case_status"].create_index(["case_no"])
    db["catalog_versions"].create(
        {"id": int, "version": str, "etag": str, "path": str, "applied_at": str},
        pk="id",
        not_null={"version", "applied_at"},
        strict=True,
    )
    db["ratings"].create(
        {
            "id": int,
            "service_id": str,
            "receipt_no": str,
            "score": int,
            "tags": str,  # JSON list of predefined tags; no free text (it could hold personal data)
            "created_at": str,
            "synced_at": str,
        },
        pk="id",
        not_null={"service_id", "score", "tags", "created_at"},
        strict=True,
    )
    db["audit_log"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "submission_id": str,
            "detail": str,
            "synced_at": str,
        },
        pk="id",
        not_null={"at", "actor", "action"},
        strict=True,
    )


def _v2_print_jobs(db: Database) -> None:
    # The print queue (printing.queue): receipts and tickets to print, with what was printed
    # (masked values only) so staff can reprint it. No foreign key to submissions: a print
    # job can never hold back or roll back the submission it belongs to.
    db["print_jobs"].create(
        {
            "id": int,
            "kind": str,  # receipt | ticket
            "ref": str,  # receipt or ticket number
            "document": str,  # JSON of printing.ReceiptData / TicketData
            "printer": str,
            "paper": str,  # 80mm | 58mm | a4
            "state": str,  # pending | printing | printed | failed | replaced
            "attempts": int,
            "next_attempt_at": str,  # failed: when it is retried automatically; NULL = waits for staff
            "last_error": str,
            "output": str,  # where it went: file, CUPS request id, printer connection
            "reprint_of": int,
            "requested_by": str,  # kiosk | staff | cli
            "created_at": str,
            "updated_at": str,
            "printed_at": str,
        },
        pk="id",
        not_null={"kind", "ref", "document", "printer", "paper", "state", "attempts", "requested_by",
                  "created_at", "updated_at"},
        foreign_keys=[("reprint_of", "print_jobs", "id")],
        strict=True,
    )
    db["print_jobs"].create_index(["state", "next_attempt_at"])
    db["print_jobs"].create_index(["ref"])


def _v3_hall(db: Database) -> None:
    # The audit log becomes a hash chain: each entry's hash covers the previous hash and
    # its own fields. Entries written before this version are chained now, in id order.
    db.execute("ALTER TABLE audit_log ADD COLUMN prev_hash TEXT")
    db.execute("ALTER TABLE audit_log ADD COLUMN hash TEXT")
    prev = GENESIS_HASH
    rows = db.execute(
        "SELECT id, at, actor, action, submission_id, detail FROM audit_log ORDER BY id"
    ).fetchall()
    for seq, at, actor, action, submission_id, detail in rows:
        digest = audit_entry_hash(prev, seq, at, actor, action, submission_id, detail)
        db.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, seq))
        prev = digest
    db["audit_log"].create_index(["synced_at"])
    # The staff account that submitted on a citizen's behalf (代办); NULL at a kiosk.
    db.execute("ALTER TABLE submissions ADD COLUMN agent_id TEXT")
    db["ratings"].create_index(["synced_at"])
    # Staff accounts of an agent station; PINs only as argon2id hashes.
    db["staff"].create(
        {
            "username": str,
            "display_name": str,
            "role": str,  # agent | supervisor | technician
            "pin_hash": str,  # argon2id, PHC string
            "failed_attempts": int,  # consecutive failures since the last success
            "locked_until": str,
            "created_at": str,
            "updated_at": str,
            "last_sign_in_at": str,
        },
        pk="username",
        not_null={"display_name", "role", "pin_hash", "failed_attempts", "created_at", "updated_at"},
        strict=True,
    )
    # Check-ins with an appointment and walk-in tickets; synced like the outbox (by id).
    db["checkins"].create(
        {
            "id": str,  # UUIDv7, the idempotency key on the wire
            "kind": str,  # appointment | walk_in
            "appointment_id": str,
            "service_id": str,
            "category": str,
            "slot": str,
            "masked_name": str,
            "ticket_no": str,
            "day": str,  # the hall's local date of the ticket
            "state": str,  # waiting | served
            "created_at": str,
            "synced_at": str,
            "sync_error": str,  # central refused it (e.g. the appointment was used elsewhere)
        },
        pk="id",
        not_null={"kind", "ticket_no", "day", "state", "created_at"},
        strict=True,
    )
    db["checkins"].create_index(["appointment_id"], unique=True)
    db["checkins"].create_index(["day", "ticket_no"], unique=True)
    db["checkins"].create_index(["synced_at"])
    db["ticket_counters"].create(
        {"day": str, "prefix": str, "last_number": int},
        pk=("day", "prefix"),
        not_null={"last_number"},
        strict=True,
    )
    # Appointments the central platform says were already checked in (at any terminal).
    db["used_appointments"].create(
        {"appointment_id": str, "used_at": str},
        pk="appointment_id",
        not_null={"used_at"},
        strict=True,
    )
    # Help requests raised here ("call staff"), and whether central got them.
    db["help_requests"].create(
        {"id": str, "reason": str, "raised_at": str, "delivered_at": str},
        pk="id",
        not_null={"reason", "raised_at"},
        strict=True,
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _v1_initial),
    Migration(2, "print queue", _v2_print_jobs),
    Migration(3, "hall: audit chain, staff, check-ins and tickets, help requests", _v3_hall),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(db: Database) -> int:
    """The schema version recorded in ``db`` (0 for an empty database)."""
    if VERSION_TABLE not in db.table_names():
        return 0
    row = db.execute(f"SELECT MAX(version) FROM {VERSION_TABLE}").fetchone()
    return int(row[0] or 0)


def migrate(db: Database, path: Path) -> int:
    """Bring ``db`` (the file at ``path``) up to :data:`LATEST_VERSION`; return that version.

    Raises:
        StoreError: the database was written by a newer Tongban.
    """
    _refuse_newer(current_version(db), path)
    for migration in MIGRATIONS:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(db)  # re-read: another process may have migrated
            _refuse_newer(version, path)
            if migration.version <= version:
                db.execute("ROLLBACK")
                continue
            migration.apply(db)
            db.execute(
                f"INSERT INTO {VERSION_TABLE} (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, to_db_time(utc_now())),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        log.info("Store %s migrated to schema version %d (%s)", path, migration.version,
                 migration.description)
    return LATEST_VERSION


def _refuse_newer(version: int, path: Path) -> None:
    if version > LATEST_VERSION:
        raise NewerDatabaseError(path, version)


class NewerDatabaseError(StoreError):
    """The database was written by a newer Tongban: its schema version is above ours.

    Opening it would risk writing rows the newer schema does not expect, so it is refused
    untouched. ``path``, ``version`` (the file's) and ``latest`` (ours) are kept for callers.
    """

    def __init__(self, path: Path, version: int) -> None:
        self.path = Path(path)
        self.version = version
        self.latest = LATEST_VERSION
        super().__init__(
            f"database {path} was written by a newer Tongban (schema version {version}; this "
            f"software knows up to {LATEST_VERSION}); update the software: install the Tongban bundle "
            "that wrote it (or a newer one), or restore the database backup made before the update; do not "
            "delete the file, it may hold submissions not yet sent"
        )


def schema_version_of(path: Path) -> int | None:
    """The schema version recorded in the database file at ``path``, read only.

    ``None`` when there is no such file. Nothing is created, migrated or locked for long:
    ``kiosk doctor`` and the start-up check use it before anything opens the store.

    Raises:
        StoreError: the file exists but is not a readable SQLite database.
    """
    import sqlite3

    path = Path(path)
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    try:
        return current_version(Database(conn, execute_plugins=False))
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database {path} is damaged or not a Tongban database ({exc})") from exc
    finally:
        conn.close()


def refuse_newer_database(path: Path) -> None:
    """Raise :class:`NewerDatabaseError` if the file at ``path`` is newer than this software."""
    version = schema_version_of(path)
    if version is not None:
        _refuse_newer(version, path)
