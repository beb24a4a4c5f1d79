"""Checking citizens in: appointment tokens verified offline, and queue tickets.

A citizen who booked online brings a QR code (an appointment token, see
:mod:`devices.appointment`). :func:`check_in_appointment` verifies it with the platform's
appointment key from enrolment, without the network, refuses it with a distinct
:class:`CheckinRefused` kind when it is not good for a check-in here and now, and
otherwise records the check-in and allocates a queue ticket number in ONE transaction.
A walk-in takes a ticket for a service category with :func:`take_ticket`.

Ticket numbers restart every day (the hall's local date) per prefix: ``Y`` for
appointments (预约), and one letter per service category in catalog order for walk-ins
(:func:`category_prefix`), then at least three digits: ``Y001``, ``A012``, ``B103``.

Check-ins and tickets are synced to the platform by :mod:`sync.hall_sync` (idempotent by
their id); the platform marks the appointment used, and terminals learn about
appointments used elsewhere from its feed (table ``used_appointments``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import uuid_utils

from devices.appointment import (
    Appointment,
    AppointmentExpired,
    AppointmentForged,
    AppointmentTokenError,
    verify_appointment_token,
)
from sync.audit import AuditAction
from sync.store import Store
from sync.store_common import to_db_time, utc_now, write_audit

log = logging.getLogger(__name__)

APPOINTMENT_PREFIX = "Y"
# Walk-in prefixes by category position; no I/O (look like digits), Y is for appointments.
CATEGORY_PREFIXES = "ABCDEFGHJKLMNPQRSTUVWXZ"
DEFAULT_EARLY_WINDOW = timedelta(minutes=60)

WAITING = "waiting"
SERVED = "served"


class RefusalKind:
    """Why an appointment check-in was refused (:attr:`CheckinRefused.kind`)."""

    INVALID = "invalid"  # not an appointment token at all (damaged, cut short, other format)
    FORGED = "forged"  # well-formed but not signed by this platform
    EXPIRED = "expired"  # genuine, but its validity ended (the slot is long past)
    TOO_EARLY = "too_early"  # genuine, but check-in for this slot has not opened yet
    USED = "used"  # already checked in, here or at another terminal
    WRONG_HALL = "wrong_hall"  # genuine, for another service hall
    NO_KEY = "no_key"  # the terminal was enrolled without an appointment key


# What the citizen reads, in both languages. {time} is the local time check-in opens.
MESSAGES: dict[str, dict[str, str]] = {
    RefusalKind.INVALID: {
        "zh_CN": "无法识别此预约码，请到服务台咨询。",
        "en": "This appointment code cannot be read. Please ask at the help desk.",
    },
    RefusalKind.FORGED: {
        "zh_CN": "此预约码不是本平台签发的，无法签到。请到服务台咨询。",
        "en": "This appointment code was not issued by this service. Please ask at the help desk.",
    },
    RefusalKind.EXPIRED: {
        "zh_CN": "此预约已过期，请重新预约或取号办理。",
        "en": "This appointment has expired. Please book again or take a ticket.",
    },
    RefusalKind.TOO_EARLY: {
        "zh_CN": "您来早了，请于 {time} 后签到。",
        "en": "You are early. Check-in opens at {time}.",
    },
    RefusalKind.USED: {
        "zh_CN": "此预约已签到过，不能重复使用。",
        "en": "This appointment has already been checked in and cannot be used again.",
    },
    RefusalKind.WRONG_HALL: {
        "zh_CN": "此预约不在本服务大厅办理，请前往预约的大厅。",
        "en": "This appointment is for another service hall. Please go to the hall you booked.",
    },
    RefusalKind.NO_KEY: {
        "zh_CN": "本机暂时无法核验预约码，请到服务台签到。",
        "en": "This kiosk cannot check appointment codes right now. Please check in at the help desk.",
    },
}


class CheckinRefused(Exception):
    """An appointment token that cannot be used for a check-in here and now.

    ``kind`` is a :class:`RefusalKind`; :meth:`message` gives the citizen's text;
    ``str()`` is the technical reason for the log (no personal data).
    """

    def __init__(self, kind: str, reason: str, *, opens_at: datetime | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.opens_at = opens_at

    def message(self, language: str = "zh_CN") -> str:
        """The citizen's message in ``language`` (``zh_CN`` or ``en``)."""
        text = MESSAGES[self.kind].get(language) or MESSAGES[self.kind]["zh_CN"]
        opens = self.opens_at.astimezone().strftime("%H:%M") if self.opens_at else ""
        return text.format(time=opens)


@dataclass(frozen=True)
class CheckinWindow:
    """How early before the slot a citizen may check in (expiry is in the token)."""

    early: timedelta = DEFAULT_EARLY_WINDOW


@dataclass(frozen=True)
class Ticket:
    """A queue ticket just issued, with what the screen and the printed ticket show."""

    checkin_id: str
    ticket_no: str
    kind: str  # appointment | walk_in
    issued_at: datetime
    waiting_ahead: int
    service_id: str | None = None
    category: str | None = None
    appointment_id: str | None = None
    masked_name: str | None = None
    slot: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready data (CLI ``--json``)."""
        return {
            "checkin_id": self.checkin_id,
            "ticket_no": self.ticket_no,
            "kind": self.kind,
            "issued_at": self.issued_at.isoformat(),
            "waiting_ahead": self.waiting_ahead,
            "service_id": self.service_id,
            "category": self.category,
            "appointment_id": self.appointment_id,
            "masked_name": self.masked_name,
            "slot": self.slot.isoformat() if self.slot else None,
        }


def category_prefix(categories: Sequence[str], category: str) -> str:
    """The walk-in ticket prefix of ``category``: its position in the catalog as a letter."""
    try:
        index = list(categories).index(category)
    except ValueError:
        raise ValueError(f"unknown service category {category!r}") from None
    return CATEGORY_PREFIXES[index % len(CATEGORY_PREFIXES)]


def parse_slot(text: str) -> datetime:
    """The appointment's slot as an aware time (a slot without offset is the hall's local time)."""
    slot = datetime.fromisoformat(text)
    return slot if slot.tzinfo is not None else slot.astimezone()


def verify_for_checkin(
    store: Store, token: str, *, now: datetime, window: CheckinWindow
) -> Appointment:
    """Verify ``token`` offline for a check-in at this terminal now; raise :class:`CheckinRefused`."""
    enrolment = store.require_enrolment()
    key = enrolment.appointment_signing_key
    if key is None:
        raise CheckinRefused(RefusalKind.NO_KEY, "no appointment key: enrol the terminal again")
    try:
        appointment = verify_appointment_token(token.strip(), key, now=now.timestamp())
    except AppointmentExpired as exc:
        raise CheckinRefused(RefusalKind.EXPIRED, str(exc)) from exc
    except AppointmentForged as exc:
        raise CheckinRefused(RefusalKind.FORGED, str(exc)) from exc
    except AppointmentTokenError as exc:
        raise CheckinRefused(RefusalKind.INVALID, str(exc)) from exc
    if appointment.hall != enrolment.site_code:
        raise CheckinRefused(
            RefusalKind.WRONG_HALL,
            f"appointment {appointment.appointment_id} is for hall {appointment.hall}, "
            f"this is {enrolment.site_code}",
        )
    try:
        slot = parse_slot(appointment.slot)
    except ValueError as exc:
        raise CheckinRefused(RefusalKind.INVALID, f"slot {appointment.slot!r} is not ISO 8601") from exc
    opens_at = slot - window.early
    if now < opens_at:
        raise CheckinRefused(
            RefusalKind.TOO_EARLY,
            f"appointment {appointment.appointment_id} opens for check-in at {opens_at.isoformat()}",
            opens_at=opens_at,
        )
    return appointment


def check_in_appointment(
    store: Store,
    token: str,
    *,
    window: CheckinWindow | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Check a citizen in with an appointment token and issue their queue ticket.

    The check-in and its ticket are committed durably together before this returns; print
    the ticket afterwards.

    Raises:
        CheckinRefused: the token is invalid, forged, expired, too early, for another hall,
            or the appointment was already checked in (here, or at another terminal as far
            as the platform has told this one).
        NotEnrolled: the terminal is not enrolled.
    """
    now = now or utc_now()
    appointment = verify_for_checkin(store, token, now=now, window=window or CheckinWindow())
    slot = parse_slot(appointment.slot)
    with store.transaction() as db:
        used = db.execute(
            "SELECT 'here' FROM checkins WHERE appointment_id = ? UNION ALL "
            "SELECT 'central' FROM used_appointments WHERE appointment_id = ?",
            (appointment.appointment_id, appointment.appointment_id),
        ).fetchone()
        if used is not None:
            raise CheckinRefused(
                RefusalKind.USED,
                f"appointment {appointment.appointment_id} was already checked in "
                f"({'at this terminal' if used[0] == 'here' else 'at another terminal'})",
            )
        ticket = _issue(
            db, now, kind="appointment", prefix=APPOINTMENT_PREFIX,
            service_id=appointment.service, appointment_id=appointment.appointment_id,
            masked_name=appointment.masked_name, slot=slot,
        )
    log.info("Appointment %s checked in: ticket %s", appointment.appointment_id, ticket.ticket_no)
    return ticket


def take_ticket(
    store: Store,
    category: str,
    prefix: str,
    *,
    service_id: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Issue a walk-in ticket for a service category (prefix from :func:`category_prefix`)."""
    if len(prefix) != 1 or not prefix.isalpha() or prefix.upper() == APPOINTMENT_PREFIX:
        raise ValueError(f"a walk-in ticket prefix is one letter other than {APPOINTMENT_PREFIX}")
    now = now or utc_now()
    with store.transaction() as db:
        ticket = _issue(db, now, kind="walk_in", prefix=prefix.upper(), category=category,
                        service_id=service_id)
    log.info("Walk-in ticket %s for %s", ticket.ticket_no, category)
    return ticket


def _issue(
    db: Any,
    now: datetime,
    *,
    kind: str,
    prefix: str,
    service_id: str | None = None,
    category: str | None = None,
    appointment_id: str | None = None,
    masked_name: str | None = None,
    slot: datetime | None = None,
) -> Ticket:
    """Allocate the day's next number for ``prefix`` and record the check-in (in a transaction)."""
    day = now.astimezone().date().isoformat()
    number = int(db.execute(
        "INSERT INTO ticket_counters (day, prefix, last_number) VALUES (?, ?, 1) "
        "ON CONFLICT(day, prefix) DO UPDATE SET last_number = last_number + 1 RETURNING last_number",
        (day, prefix),
    ).fetchall()[0][0])
    ticket_no = f"{prefix}{number:03d}"
    waiting = db.execute(
        "SELECT COUNT(*) FROM checkins WHERE day = ? AND substr(ticket_no, 1, 1) = ? AND state = ?",
        (day, prefix, WAITING),
    ).fetchone()[0]
    checkin_id = str(uuid_utils.uuid7())
    db.execute(
        "INSERT INTO checkins (id, kind, appointment_id, service_id, category, slot, masked_name, "
        "ticket_no, day, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (checkin_id, kind, appointment_id, service_id, category,
         slot.isoformat() if slot else None, masked_name, ticket_no, day, WAITING, to_db_time(now)),
    )
    if appointment_id:
        write_audit(db, now, AuditAction.CHECK_IN, actor="kiosk", detail=f"{appointment_id} {ticket_no}")
    else:
        write_audit(db, now, AuditAction.TICKET, actor="kiosk", detail=f"{category} {ticket_no}")
    return Ticket(
        checkin_id=checkin_id, ticket_no=ticket_no, kind=kind, issued_at=now, waiting_ahead=int(waiting),
        service_id=service_id, category=category, appointment_id=appointment_id,
        masked_name=masked_name, slot=slot,
    )


def mark_served(store: Store, ticket_no: str, *, now: datetime | None = None) -> bool:
    """A counter called and served today's ticket ``ticket_no``; it no longer counts as waiting."""
    day = (now or utc_now()).astimezone().date().isoformat()
    with store.transaction() as db:
        cursor = db.execute(
            "UPDATE checkins SET state = ? WHERE day = ? AND ticket_no = ? AND state = ?",
            (SERVED, day, ticket_no.strip().upper(), WAITING),
        )
        return cursor.rowcount > 0
