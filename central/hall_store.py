"""The platform's hall records: appointments, check-ins, ratings, audit events, help requests.

Kept in the platform's database beside the rest (SQLite: schema version 2 of
:mod:`central.sqlite_store`; PostgreSQL: :mod:`central.postgres_store`), each operation in
one transaction that runs alone among writers (:meth:`central.sql_store.SQLStore.writing`:
SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's writer lock), so two terminals sending at the
same moment are serialised and every record is stored once under its key:

* check-in: its UUID; the first check-in of an appointment marks it used (with the next
  value of the hall's "used" feed cursor), a later one with another id is refused;
* rating: (device, the terminal's rating number);
* audit event: (device, sequence number); its hash and its link to the device's previous
  entry are verified on arrival and the result kept (``chain_ok``);
* help request: its UUID.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from central.appointments import IssuedAppointment
from central.sql_store import Connection, Row, SQLStore
from central.store import Device
from sync.protocol import (
    GENESIS_HASH,
    AuditItem,
    CheckinItem,
    HelpRequest,
    RatingItem,
    RecordRejectReason,
    RecordResult,
    RecordStatus,
    UsedAppointment,
    audit_entry_hash,
)

log = logging.getLogger(__name__)

LOW_RATING = 2  # scores at or below this are "差评": their reasons are summarised


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class AppointmentRecord:
    """A stored appointment and whether it was used."""

    appointment_id: str
    service_id: str
    slot: datetime
    masked_name: str
    hall: str
    expires_at: datetime
    created_at: datetime
    used_at: datetime | None
    used_by_checkin: str | None


@dataclass(frozen=True)
class ChainCheck:
    """The result of verifying one device's audit chain as the platform holds it."""

    device_id: str
    entries: int
    ok: bool
    broken_seq: int | None = None
    problem: str | None = None


@dataclass
class RatingsSummary:
    """Counts per level, per service (with average) and low-rating reasons."""

    total: int = 0
    by_score: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))
    by_service: dict[str, dict[str, float]] = field(default_factory=dict)
    low_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (``kiosk-central ratings summary --json``)."""
        return {
            "total": self.total,
            "by_score": {str(k): v for k, v in self.by_score.items()},
            "by_service": self.by_service,
            "low_rating_reasons": self.low_reasons,
        }


class HallStore:
    """Hall records in the platform's database (see module docstring)."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    # --- appointments ---------------------------------------------------------------------
    def add_appointment(self, appointment: IssuedAppointment, *, now: datetime) -> None:
        """Store a newly issued appointment."""
        with self._store.writing() as conn:
            conn.execute(
                "INSERT INTO appointments (appointment_id, service_id, slot, masked_name, hall,"
                " expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (appointment.appointment_id, appointment.service_id, _ts(appointment.slot),
                 appointment.masked_name, appointment.hall, _ts(appointment.expires_at), _ts(now)),
            )

    def appointment(self, appointment_id: str) -> AppointmentRecord | None:
        """One appointment."""
        with self._store.reading() as conn:
            row = conn.execute(
                "SELECT * FROM appointments WHERE appointment_id = ?", (appointment_id,)
            ).fetchone()
        if row is None:
            return None
        return AppointmentRecord(
            appointment_id=row["appointment_id"], service_id=row["service_id"],
            slot=datetime.fromisoformat(row["slot"]), masked_name=row["masked_name"], hall=row["hall"],
            expires_at=datetime.fromisoformat(row["expires_at"]),
            created_at=datetime.fromisoformat(row["created_at"]), used_at=_dt(row["used_at"]),
            used_by_checkin=row["used_by_checkin"],
        )

    def used_appointments(self, hall: str, since: int, limit: int) -> list[UsedAppointment]:
        """Used appointments of ``hall`` with feed cursor after ``since``, oldest first."""
        with self._store.reading() as conn:
            rows = conn.execute(
                "SELECT used_cursor, appointment_id, used_at FROM appointments"
                " WHERE hall = ? AND used_cursor > ? ORDER BY used_cursor LIMIT ?",
                (hall, since, limit),
            ).fetchall()
        return [UsedAppointment(cursor=r[0], appointment_id=r[1], used_at=datetime.fromisoformat(r[2]))
                for r in rows]

    # --- check-ins ------------------------------------------------------------------------
    def add_checkins(self, device: Device, items: list[CheckinItem], *, now: datetime) -> list[RecordResult]:
        """Store check-ins (idempotent by id); mark their appointments used."""
        results = []
        with self._store.writing() as conn:
            for item in items:
                results.append(self._checkin(conn, device, item, now))
        return results

    @staticmethod
    def _checkin(conn: Connection, device: Device, item: CheckinItem, now: datetime) -> RecordResult:
        if conn.execute("SELECT 1 FROM checkins WHERE checkin_id = ?", (item.checkin_id,)).fetchone():
            return RecordResult(id=item.checkin_id, status=RecordStatus.DUPLICATE)
        if item.kind == "appointment":
            row = conn.execute(
                "SELECT used_by_checkin, hall FROM appointments WHERE appointment_id = ?",
                (item.appointment_id,),
            ).fetchone()
            if row is None:
                return RecordResult(id=item.checkin_id, status=RecordStatus.REJECTED,
                                    reason=RecordRejectReason.APPOINTMENT_UNKNOWN,
                                    detail=f"no appointment {item.appointment_id}")
            if row[0] is not None:
                return RecordResult(id=item.checkin_id, status=RecordStatus.REJECTED,
                                    reason=RecordRejectReason.APPOINTMENT_USED,
                                    detail=f"appointment {item.appointment_id} was checked in before")
            next_cursor = conn.execute(
                "SELECT COALESCE(MAX(used_cursor), 0) + 1 FROM appointments"
            ).fetchone()[0]
            conn.execute(
                "UPDATE appointments SET used_at = ?, used_by_checkin = ?, used_cursor = ?"
                " WHERE appointment_id = ?",
                (_ts(item.checked_in_at), item.checkin_id, next_cursor, item.appointment_id),
            )
        conn.execute(
            "INSERT INTO checkins (checkin_id, device_id, site_code, kind, appointment_id, service_id,"
            " category, ticket_no, checked_in_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item.checkin_id, device.device_id, device.site_code, item.kind, item.appointment_id,
             item.service_id, item.category, item.ticket_no, _ts(item.checked_in_at), _ts(now)),
        )
        return RecordResult(id=item.checkin_id, status=RecordStatus.ACCEPTED)

    def list_checkins(self, *, site_code: str | None = None) -> list[dict[str, Any]]:
        """Check-ins, oldest first (for the admin CLI and tests)."""
        sql = "SELECT * FROM checkins"
        params: list[Any] = []
        if site_code:
            sql += " WHERE site_code = ?"
            params.append(site_code)
        with self._store.reading() as conn:
            rows = conn.execute(sql + " ORDER BY checked_in_at, checkin_id", params).fetchall()
        return [dict(r) for r in rows]

    # --- ratings --------------------------------------------------------------------------
    def add_ratings(self, device: Device, items: list[RatingItem], *, now: datetime) -> list[RecordResult]:
        """Store ratings, idempotent per (device, rating_id)."""
        results = []
        with self._store.writing() as conn:
            for item in items:
                cursor = conn.execute(
                    "INSERT INTO ratings (device_id, rating_id, site_code, service_id, receipt_no,"
                    " score, tags, created_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (device.device_id, item.rating_id, device.site_code, item.service_id, item.receipt_no,
                     item.score, json.dumps(item.tags, ensure_ascii=False), _ts(item.created_at), _ts(now)),
                )
                status = RecordStatus.ACCEPTED if cursor.rowcount else RecordStatus.DUPLICATE
                results.append(RecordResult(id=str(item.rating_id), status=status))
        return results

    def ratings_summary(self, *, site_code: str | None = None) -> RatingsSummary:
        """Counts per level, per service and the reasons given with low ratings."""
        sql = "SELECT service_id, score, tags FROM ratings"
        params: list[Any] = []
        if site_code:
            sql += " WHERE site_code = ?"
            params.append(site_code)
        with self._store.reading() as conn:
            rows = conn.execute(sql, params).fetchall()
        summary = RatingsSummary()
        scores: dict[str, list[int]] = defaultdict(list)
        reasons: Counter[str] = Counter()
        for service_id, score, tags in rows:
            summary.total += 1
            summary.by_score[score] = summary.by_score.get(score, 0) + 1
            scores[service_id].append(score)
            if score <= LOW_RATING:
                reasons.update(json.loads(tags))
        summary.by_service = {
            service: {"count": len(values), "average": round(sum(values) / len(values), 2)}
            for service, values in sorted(scores.items())
        }
        summary.low_reasons = dict(reasons.most_common())
        return summary

    # --- audit events -----------------------------------------------------------------------
    def add_audit(self, device: Device, items: list[AuditItem], *, now: datetime) -> list[RecordResult]:
        """Store a device's audit entries (idempotent per seq), verifying each link on arrival.

        An entry that does not fit (its hash is wrong, or it does not link to the stored
        entry before it) is stored all the same, as evidence, and answered ``chain_broken``.
        """
        results = []
        with self._store.writing() as conn:
            for item in items:
                results.append(self._audit(conn, device, item, now))
        broken = [r for r in results if r.reason == RecordRejectReason.CHAIN_BROKEN]
        if broken:
            # One line per batch, not per entry: a terminal whose chain is broken sends the
            # same entries every cycle, and a line each would flood the platform's log.
            log.warning("audit chain of device %s: %d of %d entries received do not fit, the first "
                        "entry %s: %s", device.device_id, len(broken), len(results), broken[0].id, broken[0].detail)
        return results

    @staticmethod
    def _audit(conn: Connection, device: Device, item: AuditItem, now: datetime) -> RecordResult:
        key = str(item.seq)
        existing = conn.execute(
            "SELECT hash FROM audit_events WHERE device_id = ? AND seq = ?", (device.device_id, item.seq)
        ).fetchone()
        if existing is not None:
            if existing[0] != item.hash:
                return RecordResult(id=key, status=RecordStatus.REJECTED, reason=RecordRejectReason.CHAIN_BROKEN,
                                    detail=f"entry {item.seq} differs from the copy received before")
            return RecordResult(id=key, status=RecordStatus.DUPLICATE)
        problem = _link_problem(conn, device.device_id, item)
        conn.execute(
            "INSERT INTO audit_events (device_id, seq, at, actor, action, submission_id, detail, prev_hash,"
            " hash, chain_ok, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (device.device_id, item.seq, item.at, item.actor, item.action, item.submission_id, item.detail,
             item.prev_hash, item.hash, int(problem is None), _ts(now)),
        )
        if problem is not None:
            return RecordResult(id=key, status=RecordStatus.REJECTED, reason=RecordRejectReason.CHAIN_BROKEN,
                                detail=problem)
        return RecordResult(id=key, status=RecordStatus.ACCEPTED)

    def verify_chain(self, device_id: str) -> ChainCheck:
        """Walk one device's audit entries as stored here and report the first break.

        A terminal enrolled again continues its chain under a new device id, so the first
        entry held for a device may start after 1; from there on every link must hold.
        """
        with self._store.reading() as conn:
            rows = conn.execute(
                "SELECT seq, at, actor, action, submission_id, detail, prev_hash, hash FROM audit_events"
                " WHERE device_id = ? ORDER BY seq",
                (device_id,),
            ).fetchall()
        prev: str | None = None
        expected: int | None = None
        for row in rows:
            seq, at, actor, action, submission_id, detail, prev_hash, digest = tuple(row)
            if expected is not None and seq != expected:
                return ChainCheck(device_id, len(rows), False, seq, f"entries {expected}..{seq - 1} are missing")
            if prev is not None and prev_hash != prev:
                return ChainCheck(device_id, len(rows), False, seq, "does not link to the entry before it")
            if seq == 1 and prev_hash != GENESIS_HASH:
                return ChainCheck(device_id, len(rows), False, seq, "the first entry does not start the chain")
            if audit_entry_hash(prev_hash, seq, at, actor, action, submission_id, detail) != digest:
                return ChainCheck(device_id, len(rows), False, seq, "content does not match its hash")
            prev, expected = digest, seq + 1
        return ChainCheck(device_id, len(rows), True)

    def audit_devices(self) -> list[str]:
        """Devices that sent audit entries."""
        with self._store.reading() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT device_id FROM audit_events ORDER BY device_id")]

    # --- help requests --------------------------------------------------------------------
    def raise_help(self, device: Device, request_id: str, reason: str, raised_at: datetime,
                   *, now: datetime) -> HelpRequest:
        """Record a help request (idempotent by id) and return it."""
        with self._store.writing() as conn:
            conn.execute(
                "INSERT INTO help_requests (request_id, device_id, site_code, reason, raised_at,"
                " received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (request_id, device.device_id, device.site_code, reason, _ts(raised_at), _ts(now)),
            )
        found = self.help_request(request_id)
        assert found is not None
        return found

    def help_request(self, request_id: str) -> HelpRequest | None:
        """One help request."""
        with self._store.reading() as conn:
            row = conn.execute(
                "SELECT h.*, d.device_code FROM help_requests h JOIN devices d USING (device_id)"
                " WHERE request_id = ?",
                (request_id,),
            ).fetchone()
        return _help(row) if row else None

    def open_help(self, site_code: str) -> list[HelpRequest]:
        """The site's unacknowledged help requests, oldest first."""
        with self._store.reading() as conn:
            rows = conn.execute(
                "SELECT h.*, d.device_code FROM help_requests h JOIN devices d USING (device_id)"
                " WHERE h.site_code = ? AND h.acknowledged_at IS NULL ORDER BY h.raised_at",
                (site_code,),
            ).fetchall()
        return [_help(r) for r in rows]

    def acknowledge_help(self, request_id: str, site_code: str, staff: str, *, now: datetime) -> HelpRequest | None:
        """A staff member of the site takes the request (the first acknowledgement stays)."""
        with self._store.writing() as conn:
            conn.execute(
                "UPDATE help_requests SET acknowledged_at = ?, acknowledged_by = ?"
                " WHERE request_id = ? AND site_code = ? AND acknowledged_at IS NULL",
                (_ts(now), staff, request_id, site_code),
            )
        found = self.help_request(request_id)
        return found if found is not None and found.site_code == site_code else None


def _link_problem(conn: Connection, device_id: str, item: AuditItem) -> str | None:
    recomputed = audit_entry_hash(item.prev_hash, item.seq, item.at, item.actor, item.action,
                                  item.submission_id, item.detail)
    if recomputed != item.hash:
        return "content does not match its hash"
    if item.seq == 1 and item.prev_hash != GENESIS_HASH:
        return "the first entry does not start the chain"
    before = conn.execute(
        "SELECT hash FROM audit_events WHERE device_id = ? AND seq = ?", (device_id, item.seq - 1)
    ).fetchone()
    if before is not None and before[0] != item.prev_hash:
        return "does not link to the entry before it"
    return None


def _help(row: Row) -> HelpRequest:
    return HelpRequest(
        request_id=row["request_id"], site_code=row["site_code"], device_id=row["device_id"],
        device_code=row["device_code"], reason=row["reason"], raised_at=datetime.fromisoformat(row["raised_at"]),
        state="acknowledged" if row["acknowledged_at"] else "open",
        acknowledged_at=_dt(row["acknowledged_at"]), acknowledged_by=row["acknowledged_by"],
    )
