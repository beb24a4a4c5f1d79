"""The outbox: submissions waiting to reach the central platform, and their states.

Life of an item::

    enqueue --> pending --claim_batch--> sending --mark_accepted--> accepted
                  ^                        |  \\
                  |        mark_retry      |   `--mark_dead--> dead
                  `------------------------'                    |
                  ^   lease expired (crashed worker)            |
                  `----------------------------- retry_dead ----'
                                                                 |
                                              cancel_dead --> cancelled (never sent)

* ``enqueue`` writes the submission (sealed payload + masked summary), its sealed
  attachments, its outbox row and its receipt number in ONE transaction: a submission
  exists once that commits, never half.
* ``claim_batch`` hands out due ``pending`` items and marks them ``sending`` with a lease.
  A worker that crashes leaves its items ``sending``; once the lease runs out they are
  claimable again. Sending twice is harmless because the submission id is the idempotency
  key on the wire; the sync lock (:mod:`sync.lock`) keeps it from happening in normal runs.
* ``accepted`` is final and never downgraded: a late retry or dead mark is ignored.

Functions here take a sqlite-utils ``Database`` and run inside the caller's transaction;
application code calls them through :class:`sync.store.Store`, which opens the
transactions (``BEGIN IMMEDIATE``, ``synchronous=FULL``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import uuid_utils
from sqlite_utils import Database

from sync.enrolment import require_enrolment
from sync.receipt import InvalidReceiptNumber, ReceiptNumber
from sync.store_common import StoreError, from_db_time, to_db_time, write_audit
from sync.submission import (
    Attachment,
    EnqueuedSubmission,
    SubmissionSummary,
    iter_attachment_refs,
    seal_payload,
    summarise,
)

log = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
ACCEPTED = "accepted"
DEAD = "dead"
CANCELLED = "cancelled"  # a dead letter a supervisor gave up on, with a recorded reason
STATES = (PENDING, SENDING, ACCEPTED, DEAD, CANCELLED)

AttachmentInput = Attachment | tuple[bytes, str, str]


class OutboxError(StoreError):
    """An outbox operation refers to an unknown item or is not allowed in its state."""


class UnknownSubmission(OutboxError, KeyError):
    """No submission has that id (or receipt or case number)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown submission"


class AttachmentMismatch(ValueError):
    """The attachments given do not match the references in the answers."""


@dataclass(frozen=True)
class OutboxAttachment:
    """An attachment of a queued submission, as the sync engine sees it (no content).

    ``size`` is the plaintext size; ``uploaded`` says whether it was already uploaded
    (see :meth:`sync.store.Store.mark_attachment_uploaded`).
    """

    sha256: str
    size: int
    mime: str
    uploaded: bool


@dataclass(frozen=True)
class OutboxItem:
    """Everything the sync engine needs to put one submission on the wire.

    ``attempts`` counts claims including this one (1 on the first send), so the backoff
    before the next try can be computed from it.
    """

    submission_id: str
    service_id: str
    form_version: str
    receipt_no: str
    created_at: datetime
    is_test: bool
    sealed_payload: bytes = field(repr=False)
    attachments: tuple[OutboxAttachment, ...]
    attempts: int
    agent_id: str | None = None  # staff account that submitted on the citizen's behalf

    @property
    def attachment_sha256s(self) -> tuple[str, ...]:
        """The hex SHA-256 of every attachment the payload refers to."""
        return tuple(a.sha256 for a in self.attachments)


@dataclass(frozen=True)
class QueueEntry:
    """One submission and its outbox state, for staff and the CLI. Never sealed data."""

    submission_id: str
    receipt_no: str
    service_id: str
    form_version: str
    created_at: datetime
    is_test: bool
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    case_no: str | None
    accepted_at: datetime | None
    updated_at: datetime
    purged: bool
    summary: SubmissionSummary
    attachments: tuple[OutboxAttachment, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data for ``kiosk queue ... --json``."""
        return {
            "submission_id": self.submission_id,
            "receipt_no": self.receipt_no,
            "service_id": self.service_id,
            "form_version": self.form_version,
            "created_at": self.created_at.isoformat(),
            "is_test": self.is_test,
            "state": self.state,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "last_error": self.last_error,
            "case_no": self.case_no,
            "accepted_at": self.accepted_at.isoformat() if self.accepted_at else None,
            "updated_at": self.updated_at.isoformat(),
            "purged": self.purged,
            "summary": self.summary.as_dict(),
            "attachments": [
                {"sha256": a.sha256, "size": a.size, "mime": a.mime, "uploaded": a.uploaded}
                for a in self.attachments
            ],
        }


# --- enqueue -----------------------------------------------------------------------------


def enqueue(
    db: Database,
    *,
    service_id: str,
    form_version: str,
    answers: Mapping[str, Any],
    attachments: Sequence[AttachmentInput],
    is_test: bool,
    now: datetime,
    service_name: Mapping[str, str] | str | None,
    actor: str,
    agent_id: str | None = None,
    session_seconds: float | None = None,
) -> EnqueuedSubmission:
    """Write one submission, its attachments, outbox row and receipt number.

    Must run inside one write transaction (see :meth:`sync.store.Store.enqueue`).
    """
    files = _as_attachments(attachments)
    _check_attachments(answers, files)
    enrolment = require_enrolment(db)
    key = enrolment.sealing_public_key
    submission_id = str(uuid_utils.uuid7())
    meta = {"agent_id": agent_id} if agent_id else None
    sealed_payload = seal_payload(key, submission_id, answers, meta=meta)
    receipt = _allocate_receipt(db, enrolment.site_code, enrolment.device_code, now)
    receipt_no = str(receipt)
    summary = summarise(service_id, service_name, answers, now, is_test, agent_id=agent_id,
                        session_seconds=session_seconds)
    at = to_db_time(now)
    db.execute(
        "INSERT INTO submissions (id, service_id, form_version, receipt_no, created_at, "
        "is_test, sealed_payload, summary, agent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, service_id, form_version, receipt_no, at, int(is_test),
         sealed_payload, summary.to_json(), agent_id),
    )
    for sha256, file in files.items():
        db.execute(
            "INSERT INTO attachments (submission_id, sha256, size, mime, sealed) "
            "VALUES (?, ?, ?, ?, ?)",
            (submission_id, sha256, file.size, file.mime, file.sealed(key)),
        )
    db.execute(
        "INSERT INTO outbox (submission_id, state, attempts, next_attempt_at, updated_at) "
        "VALUES (?, ?, 0, ?, ?)",
        (submission_id, PENDING, at, at),
    )
    if agent_id:
        write_audit(db, now, "submit-on-behalf", actor=agent_id, submission_id=submission_id,
                    detail=receipt_no)
    else:
        write_audit(db, now, "enqueued", actor=actor, submission_id=submission_id, detail=receipt_no)
    return EnqueuedSubmission(
        submission_id=submission_id,
        receipt_no=receipt_no,
        service_id=service_id,
        form_version=form_version,
        created_at=now,
        is_test=is_test,
        summary=summary,
    )


def _as_attachments(attachments: Sequence[AttachmentInput]) -> dict[str, Attachment]:
    files: dict[str, Attachment] = {}
    for item in attachments:
        file = item if isinstance(item, Attachment) else Attachment(item[0], item[1], item[2])
        files.setdefault(file.sha256, file)  # the same file twice is stored once
    return files


def _check_attachments(answers: Mapping[str, Any], files: Mapping[str, Attachment]) -> None:
    """Every reference has its file and every file is referenced: none silently dropped."""
    referenced: set[str] = set()
    for ref in iter_attachment_refs(answers):
        sha256 = str(ref["sha256"]).lower()
        referenced.add(sha256)
        file = files.get(sha256)
        if file is None:
            raise AttachmentMismatch(
                f"the answers refer to attachment {sha256} but its content was not given"
            )
        if ref["size"] != file.size:
            raise AttachmentMismatch(
                f"attachment {sha256} has {file.size} bytes but the answers say {ref['size']}"
            )
    unreferenced = sorted(set(files) - referenced)
    if unreferenced:
        raise AttachmentMismatch(
            f"attachment {unreferenced[0]} is given but no answer refers to it"
        )


def _allocate_receipt(db: Database, site: str, device: str, now: datetime) -> ReceiptNumber:
    """The next receipt number of the terminal's local day, inside the enqueue transaction.

    Sequences whose check character would be ``*`` are skipped (about 1 in 37): a citizen
    types receipt numbers on a keypad without ``*``, and it needs quoting in shells and URLs.
    Every number still carries a full MOD 37-2 check, so the error detection is unchanged.
    """
    day = now.astimezone().date()  # the hall's date, as printed on the receipt
    while True:
        rows = db.execute(
            "INSERT INTO receipt_counters (day, last_sequence) VALUES (?, 1) "
            "ON CONFLICT(day) DO UPDATE SET last_sequence = last_sequence + 1 "
            "RETURNING last_sequence",
            (day.isoformat(),),
        ).fetchall()
        sequence = int(rows[0][0])
        try:
            receipt = ReceiptNumber.issue(site, device, day, sequence)
        except ValueError as exc:
            raise StoreError(f"cannot make a receipt number for {day}: {exc}") from exc
        if receipt.check != "*":
            return receipt


# --- the sync engine's side ----------------------------------------------------------------


def claim_batch(db: Database, limit: int, now: datetime, lease: timedelta) -> list[OutboxItem]:
    """Mark up to ``limit`` due items ``sending`` and return them (inside a transaction)."""
    if limit <= 0:
        return []
    now_s = to_db_time(now)
    ids = [
        row[0]
        for row in db.execute(
            "SELECT submission_id FROM outbox "
            "WHERE (state = ? AND next_attempt_at <= ?) OR (state = ? AND lease_until <= ?) "
            "ORDER BY next_attempt_at, submission_id LIMIT ?",
            (PENDING, now_s, SENDING, now_s, limit),
        ).fetchall()
    ]
    if not ids:
        return []
    db.conn.executemany(
        "UPDATE outbox SET state = ?, attempts = attempts + 1, lease_until = ?, updated_at = ? "
        "WHERE submission_id = ?",
        [(SENDING, to_db_time(now + lease), now_s, sid) for sid in ids],
    )
    marks = ", ".join("?" for _ in ids)
    attachments = _attachments_of(db, ids)
    rows = db.execute(
        "SELECT s.id, s.service_id, s.form_version, s.receipt_no, s.created_at, s.is_test, "
        "s.sealed_payload, o.attempts, s.agent_id FROM submissions s "
        "JOIN outbox o ON o.submission_id = s.id "
        f"WHERE s.id IN ({marks})",
        ids,
    ).fetchall()
    by_id = {
        row[0]: OutboxItem(
            submission_id=row[0],
            service_id=row[1],
            form_version=row[2],
            receipt_no=row[3],
            created_at=from_db_time(row[4]),
            is_test=bool(row[5]),
            sealed_payload=row[6],
            attachments=attachments.get(row[0], ()),
            attempts=row[7],
            agent_id=row[8],
        )
        for row in rows
    }
    return [by_id[sid] for sid in ids]


def release_claims(db: Database, now: datetime) -> int:
    """Put every ``sending`` item back to ``pending``; return how many."""
    cursor = db.execute(
        "UPDATE outbox SET state = ?, lease_until = NULL, updated_at = ? WHERE state = ?",
        (PENDING, to_db_time(now), SENDING),
    )
    return cursor.rowcount


def mark_accepted(db: Database, submission_id: str, case_no: str, now: datetime) -> bool:
    """Record that central accepted the item (or answered "duplicate") with ``case_no``."""
    state, old_case = _state_and_case(db, submission_id)
    if state == ACCEPTED:
        if old_case != case_no:
            log.warning(
                "Submission %s already accepted as case %s; central now says %s (kept the first)",
                submission_id, old_case, case_no,
            )
        return False
    at = to_db_time(now)
    db.execute(
        "UPDATE outbox SET state = ?, case_no = ?, accepted_at = ?, lease_until = NULL, "
        "last_error = NULL, updated_at = ? WHERE submission_id = ?",
        (ACCEPTED, case_no, at, at, submission_id),
    )
    return True


def mark_retry(
    db: Database, submission_id: str, error: str, next_attempt_at: datetime, now: datetime
) -> bool:
    """Put a ``sending`` (or ``pending``) item back to ``pending`` until ``next_attempt_at``."""
    state, _ = _state_and_case(db, submission_id)
    if state not in (PENDING, SENDING):
        log.info("Retry of submission %s ignored: it is %s", submission_id, state)
        return False
    db.execute(
        "UPDATE outbox SET state = ?, next_attempt_at = ?, last_error = ?, lease_until = NULL, "
        "updated_at = ? WHERE submission_id = ?",
        (PENDING, to_db_time(next_attempt_at), error, to_db_time(now), submission_id),
    )
    return True


def mark_dead(db: Database, submission_id: str, reason: str, now: datetime) -> bool:
    """Move an item to the dead letters with ``reason``; never an accepted one."""
    state, _ = _state_and_case(db, submission_id)
    if state in (ACCEPTED, DEAD, CANCELLED):
        log.info("Dead mark of submission %s ignored: it is %s", submission_id, state)
        return False
    db.execute(
        "UPDATE outbox SET state = ?, last_error = ?, lease_until = NULL, updated_at = ? "
        "WHERE submission_id = ?",
        (DEAD, reason, to_db_time(now), submission_id),
    )
    write_audit(db, now, "dead", submission_id=submission_id, detail=reason)
    log.warning("Submission %s moved to dead letters: %s", submission_id, reason)
    return True


def retry_dead(db: Database, submission_id: str, reason: str, now: datetime, actor: str) -> None:
    """Send a dead letter again from now on, with fresh backoff; audited with ``reason``."""
    state, _ = _state_and_case(db, submission_id)
    if state != DEAD:
        raise OutboxError(f"submission {submission_id} is {state}, not a dead letter")
    at = to_db_time(now)
    db.execute(
        "UPDATE outbox SET state = ?, attempts = 0, next_attempt_at = ?, lease_until = NULL, "
        "updated_at = ? WHERE submission_id = ?",
        (PENDING, at, at, submission_id),
    )
    write_audit(db, now, "retry", actor=actor, submission_id=submission_id, detail=reason)
    log.info("Dead letter %s queued again by %s", submission_id, actor)


def cancel_dead(db: Database, submission_id: str, reason: str, now: datetime, actor: str) -> None:
    """Give up on a dead letter for good (it is never sent); audited with ``reason``.

    The submission and its receipt stay on the terminal, so staff can still show what was
    cancelled and why.
    """
    state, _ = _state_and_case(db, submission_id)
    if state != DEAD:
        raise OutboxError(f"submission {submission_id} is {state}, not a dead letter")
    db.execute(
        "UPDATE outbox SET state = ?, lease_until = NULL, updated_at = ? WHERE submission_id = ?",
        (CANCELLED, to_db_time(now), submission_id),
    )
    write_audit(db, now, "dead-cancel", actor=actor, submission_id=submission_id, detail=reason)
    log.info("Dead letter %s cancelled by %s", submission_id, actor)


def counts(db: Database) -> dict[str, int]:
    """How many items are in each state: ``{pending, sending, accepted, dead, cancelled}``."""
    result = dict.fromkeys(STATES, 0)
    for state, count in db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
        result[state] = count
    return result


def sealed_attachment(db: Database, sha256: str) -> bytes:
    """The sealed bytes of the attachment with this plaintext hash (for upload).

    The same file attached to two submissions is sealed twice, differently; always the same
    (oldest) copy is returned, so an upload resumed in a later cycle continues the same bytes.
    """
    row = db.execute(
        "SELECT sealed FROM attachments WHERE sha256 = ? AND sealed IS NOT NULL ORDER BY rowid LIMIT 1",
        (sha256.lower(),),
    ).fetchone()
    if row is None:
        raise UnknownSubmission(f"no stored attachment {sha256}")
    return bytes(row[0])


def mark_attachment_uploaded(db: Database, sha256: str, now: datetime) -> int:
    """Record that central holds the attachment ``sha256``; returns rows changed."""
    cursor = db.execute(
        "UPDATE attachments SET uploaded_at = ? WHERE sha256 = ? AND uploaded_at IS NULL",
        (to_db_time(now), sha256.lower()),
    )
    return cursor.rowcount


def purge_sealed(db: Database, accepted_before: datetime, now: datetime) -> int:
    """Drop sealed payloads and attachments of items accepted before the cut-off.

    The masked summary stays for receipt look-ups. Returns the number of submissions purged.
    """
    cutoff, at = to_db_time(accepted_before), to_db_time(now)
    accepted = (
        "SELECT submission_id FROM outbox WHERE state = ? AND accepted_at <= ?"
    )
    db.execute(
        f"UPDATE attachments SET sealed = NULL WHERE submission_id IN ({accepted})",
        (ACCEPTED, cutoff),
    )
    cursor = db.execute(
        "UPDATE submissions SET sealed_payload = NULL, purged_at = ? "
        f"WHERE sealed_payload IS NOT NULL AND id IN ({accepted})",
        (at, ACCEPTED, cutoff),
    )
    return cursor.rowcount


# --- staff and CLI views -------------------------------------------------------------------

_ENTRY_SELECT = (
    "SELECT s.id, s.receipt_no, s.service_id, s.form_version, s.created_at, s.is_test, "
    "o.state, o.attempts, o.next_attempt_at, o.last_error, o.case_no, o.accepted_at, "
    "o.updated_at, s.sealed_payload IS NULL, s.summary "
    "FROM submissions s JOIN outbox o ON o.submission_id = s.id "
)
_UUID_PREFIX_RE = re.compile(r"[0-9a-f-]{8,36}")


def list_entries(
    db: Database, states: Iterable[str] | None = None, limit: int | None = None
) -> list[QueueEntry]:
    """Queue entries, oldest first, optionally only those in ``states``."""
    sql, params = _ENTRY_SELECT, []
    if states is not None:
        wanted = list(states)
        unknown = set(wanted) - set(STATES)
        if unknown:
            raise ValueError(f"unknown outbox state(s): {', '.join(sorted(unknown))}")
        sql += f"WHERE o.state IN ({', '.join('?' for _ in wanted)}) "
        params.extend(wanted)
    sql += "ORDER BY s.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return _entries(db, db.execute(sql, params).fetchall())


def find_entry(db: Database, key: str) -> QueueEntry:
    """The entry for a submission id (or unique prefix of 8+), receipt number or case number.

    Raises:
        UnknownSubmission: nothing matches ``key``, or a prefix matches several.
    """
    text = key.strip()
    rows = db.execute(_ENTRY_SELECT + "WHERE s.id = ?", (text.lower(),)).fetchall()
    if not rows:
        try:
            receipt_no = ReceiptNumber.validate(text)
        except InvalidReceiptNumber:
            receipt_no = None
        if receipt_no is not None:
            rows = db.execute(_ENTRY_SELECT + "WHERE s.receipt_no = ?", (receipt_no,)).fetchall()
    if not rows:
        rows = db.execute(_ENTRY_SELECT + "WHERE o.case_no = ?", (text,)).fetchall()
    if not rows and _UUID_PREFIX_RE.fullmatch(text.lower()):
        rows = db.execute(
            _ENTRY_SELECT + "WHERE s.id LIKE ? LIMIT 2", (text.lower() + "%",)
        ).fetchall()
        if len(rows) > 1:
            raise UnknownSubmission(f"{key!r} matches more than one submission; give more of it")
    if not rows:
        raise UnknownSubmission(f"no submission with id, receipt number or case number {key!r}")
    return _entries(db, rows)[0]


def _entries(db: Database, rows: list[tuple[Any, ...]]) -> list[QueueEntry]:
    attachments = _attachments_of(db, [row[0] for row in rows])
    return [
        QueueEntry(
            submission_id=row[0],
            receipt_no=row[1],
            service_id=row[2],
            form_version=row[3],
            created_at=from_db_time(row[4]),
            is_test=bool(row[5]),
            state=row[6],
            attempts=row[7],
            next_attempt_at=from_db_time(row[8]),
            last_error=row[9],
            case_no=row[10],
            accepted_at=from_db_time(row[11]) if row[11] else None,
            updated_at=from_db_time(row[12]),
            purged=bool(row[13]),
            summary=SubmissionSummary.from_json(row[14]),
            attachments=attachments.get(row[0], ()),
        )
        for row in rows
    ]


def _attachments_of(db: Database, ids: list[str]) -> dict[str, tuple[OutboxAttachment, ...]]:
    result: dict[str, list[OutboxAttachment]] = {}
    # Chunked: SQLite limits the number of parameters in one statement.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for sid, sha256, size, mime, uploaded_at in db.execute(
            "SELECT submission_id, sha256, size, mime, uploaded_at FROM attachments "
            f"WHERE submission_id IN ({marks}) ORDER BY submission_id, sha256",
            chunk,
        ):
            result.setdefault(sid, []).append(
                OutboxAttachment(sha256, size, mime, uploaded_at is not None)
            )
    return {sid: tuple(items) for sid, items in result.items()}


def _state_and_case(db: Database, submission_id: str) -> tuple[str, str | None]:
    row = db.execute(
        "SELECT state, case_no FROM outbox WHERE submission_id = ?", (submission_id,)
    ).fetchone()
    if row is None:
        raise UnknownSubmission(f"no submission {submission_id} in the outbox")
    return row[0], row[1]

