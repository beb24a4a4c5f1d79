"""The terminal's audit log as a hash chain: what is recorded, and how tampering shows.

Every entry is written by :func:`sync.store_common.write_audit` inside the transaction of
the change it records, with ``id`` = its sequence number (1, 2, 3...), ``prev_hash`` = the
hash of the entry before it and ``hash`` = :func:`sync.protocol.audit_entry_hash` of both
and its own fields. :func:`verify_chain` walks the log in order and reports the first
entry that does not fit:

* an edited entry no longer matches its own hash;
* a deleted entry leaves a gap in the sequence and the next entry's ``prev_hash`` points
  at a hash that is not there;
* reordered entries (ids swapped) break both.

Someone with write access to the database can rewrite the whole chain from the edit on;
that is why the entries are also pushed to the central platform (:mod:`sync.hall_sync`),
which verifies the chain per terminal as it arrives and keeps its own copy. Deleting only
the newest entries is visible there too (the platform holds entries the terminal lacks).

Actions recorded (``action`` column), each with the staff account or ``kiosk``/``cli`` as
actor: see :class:`AuditAction`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.protocol import GENESIS_HASH, AuditItem, audit_entry_hash
from sync.store import Store
from sync.store_common import from_db_time, to_db_time, utc_now, write_audit

log = logging.getLogger(__name__)


class AuditAction:
    """The actions written to the audit log (plain strings, stable on the wire)."""

    ENROLLED = "enrolled"
    ENQUEUED = "enqueued"  # a citizen's own submission at the kiosk
    SUBMIT_ON_BEHALF = "submit-on-behalf"  # 代办: an agent submitted for a citizen
    DEAD = "dead"
    DEAD_RETRY = "retry"  # a dead letter queued again (with reason)
    DEAD_CANCEL = "dead-cancel"  # a dead letter given up by a supervisor (with reason)
    REPRINT = "reprint"
    SIGN_IN_OK = "sign-in-ok"
    SIGN_IN_FAILED = "sign-in-failed"
    SIGN_IN_LOCKED = "sign-in-locked"  # refused: the account is locked out
    SIGN_OUT = "sign-out"  # staff signed out at the agent station (or were signed out when idle)
    HELP_ACKNOWLEDGED = "help-acknowledged"  # staff took a citizen's help request
    STAFF_ADDED = "staff-added"
    STAFF_PIN_RESET = "staff-pin-reset"
    CONFIG_CHANGE = "config-change"
    CATALOG_APPLIED = "catalog-applied"  # a catalog update
    CHECK_IN = "check-in"
    TICKET = "ticket"
    PURGED = "purged"


@dataclass(frozen=True)
class ChainedEntry:
    """One audit entry with its place in the chain."""

    seq: int
    at: datetime
    at_text: str
    actor: str
    action: str
    submission_id: str | None
    detail: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (for ``kiosk audit list --json``)."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "submission_id": self.submission_id,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    def wire(self) -> AuditItem:
        """The entry as sent to the central platform (the stored time text, unchanged)."""
        return AuditItem(
            seq=self.seq,
            at=self.at_text,
            actor=self.actor,
            action=self.action,
            submission_id=self.submission_id,
            detail=self.detail,
            prev_hash=self.prev_hash,
            hash=self.hash,
        )


@dataclass(frozen=True)
class ChainReport:
    """The result of :func:`verify_chain`.

    ``ok`` is True when every entry fits; otherwise ``broken_seq`` is the first entry that
    does not (or, for a deleted entry, the first entry after the gap) and ``problem`` says
    what is wrong with it.
    """

    ok: bool
    entries: int
    broken_seq: int | None = None
    problem: str | None = None
    head_hash: str = GENESIS_HASH

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (for ``kiosk audit verify --json``)."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "broken_seq": self.broken_seq,
            "problem": self.problem,
            "head_hash": self.head_hash,
        }


_COLUMNS = "id, at, actor, action, submission_id, detail, prev_hash, hash"


def _entry(row: Any) -> ChainedEntry:
    return ChainedEntry(
        seq=row[0],
        at=from_db_time(row[1]),
        at_text=row[1],
        actor=row[2],
        action=row[3],
        submission_id=row[4],
        detail=row[5],
        prev_hash=row[6] or "",
        hash=row[7] or "",
    )


def list_entries(
    store: Store, *, since_seq: int = 0, limit: int | None = None, action: str | None = None
) -> list[ChainedEntry]:
    """Entries after ``since_seq``, oldest first (optionally one action, at most ``limit``)."""
    sql = f"SELECT {_COLUMNS} FROM audit_log WHERE id > ?"
    params: list[Any] = [since_seq]
    if action:
        sql += " AND action = ?"
        params.append(action)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    with store.reading() as db:
        return [_entry(r) for r in db.execute(sql, params).fetchall()]


def verify_chain(store: Store) -> ChainReport:
    """Walk the whole audit log and report the first entry that breaks the chain."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    with store.reading() as db:
        cursor = db.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY id")
        for row in cursor:
            entry = _entry(row)
            count += 1
            problem = _problem(entry, expected_seq, prev)
            if problem is not None:
                log.warning("audit chain broken at entry %d: %s", entry.seq, problem)
                return ChainReport(False, count, entry.seq, problem, prev)
            prev = entry.hash
            expected_seq += 1
    return ChainReport(True, count, head_hash=prev)


def _problem(entry: ChainedEntry, expected_seq: int, prev: str) -> str | None:
    if entry.seq != expected_seq:
        return (f"entry {expected_seq} is missing (the log jumps to {entry.seq}): "
                "an entry was deleted")
    if entry.prev_hash != prev:
        return "its link to the previous entry does not match: an entry before it was deleted, "\
               "replaced or moved"
    recomputed = audit_entry_hash(
        entry.prev_hash, entry.seq, entry.at_text, entry.actor, entry.action,
        entry.submission_id, entry.detail,
    )
    if recomputed != entry.hash:
        return "its content does not match its hash: the entry was edited (or moved)"
    return None


def unsynced(store: Store, limit: int) -> list[ChainedEntry]:
    """Entries not yet acknowledged by the central platform, oldest first."""
    with store.reading() as db:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE synced_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        ).fetchall()
    return [_entry(r) for r in rows]


def mark_synced(store: Store, seqs: list[int], *, now: datetime | None = None) -> None:
    """Record that the central platform holds these entries (never sent again)."""
    if not seqs:
        return
    at = to_db_time(now or utc_now())
    with store.transaction() as db:
        db.conn.executemany(
            "UPDATE audit_log SET synced_at = ? WHERE id = ? AND synced_at IS NULL",
            [(at, seq) for seq in seqs],
        )


def record_config_change(
    store: Store, config_digest: str, *, actor: str = "system", now: datetime | None = None
) -> bool:
    """Audit a change of the configuration file, identified by its content digest.

    Call it at start-up with the SHA-256 of ``kiosk.toml``: an entry is written only when
    the digest differs from the last one recorded. Returns whether an entry was written.
    """
    key = "audit.config_digest"
    with store.transaction() as db:
        row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        if row is not None and row[0] == config_digest:
            return False
        now = now or utc_now()
        db.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) "
            "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, config_digest, to_db_time(now)),
        )
        previous = row[0][:12] if row is not None else "none"
        write_audit(db, now, AuditAction.CONFIG_CHANGE, actor=actor,
                    detail=f"{previous} -> {config_digest[:12]}")
    return True
