"""Issuing appointment tokens: the signed QR code a citizen brings to the hall (O2O).

The token format is defined by the kiosk, which must read it offline
(``devices/appointment.py``, documented in ``docs/devices.md`` and ``docs/hall.md``)::

    TBA1.<base64url(claims JSON)>.<base64url(Ed25519 signature over "TBA1.<claims>")>

with exactly the claims ``appointment_id``, ``service``, ``slot``, ``masked_name``,
``hall`` and ``exp``. The platform may not import ``devices``, so the few lines that
make a token are repeated here; the tests check that the kiosk verifies what this makes.
The signing key is the platform's appointment key (:mod:`central.keys`), not the catalog
key. Only a masked name is put in the token: a QR code on a phone is seen by others.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from central.keys import PlatformKeys

log = logging.getLogger(__name__)

TOKEN_PREFIX = "TBA1."
HALL_TZ = ZoneInfo("Asia/Shanghai")  # a slot given without offset is the hall's local time
DEFAULT_VALID_AFTER_SLOT = timedelta(minutes=30)
_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class AppointmentError(ValueError):
    """An appointment that cannot be issued; the message names the argument and the fix."""


@dataclass(frozen=True)
class IssuedAppointment:
    """A new appointment and its token."""

    appointment_id: str
    service_id: str
    slot: datetime
    masked_name: str
    hall: str
    expires_at: datetime
    token: str


def mask_name(name: str | None) -> str:
    """Mask a person's name for the token: 张三 -> 张*, 张小三 -> 张*三, Anna Li -> A*** L*."""
    text = (name or "").strip()
    if not text:
        return "*"
    if " " in text:  # Latin names: keep each part's initial
        return " ".join(part[0] + "*" * (len(part) - 1) for part in text.split())
    if len(text) <= 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def parse_slot(text: str) -> datetime:
    """An ISO 8601 slot as an aware time; without an offset it is the hall's local time."""
    try:
        slot = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise AppointmentError(
            f"slot {text!r} is not ISO 8601 (e.g. 2025-03-14T09:30 or 2025-03-14T09:30+08:00)"
        ) from exc
    return slot if slot.tzinfo is not None else slot.replace(tzinfo=HALL_TZ)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_token(claims: dict[str, object], keys: PlatformKeys) -> str:
    """The ``TBA1.`` token of ``claims``, signed with the appointment key."""
    body = TOKEN_PREFIX + _b64url(
        json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    )
    return body + "." + _b64url(keys.sign_appointment(body.encode("ascii")))


def new_appointment_id() -> str:
    """A short random appointment id (typeable at a counter): ``AP`` + 10 characters."""
    return "AP" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def make_appointment(
    keys: PlatformKeys,
    *,
    service_id: str,
    slot: datetime,
    hall: str,
    name: str | None = None,
    valid_after_slot: timedelta = DEFAULT_VALID_AFTER_SLOT,
    appointment_id: str | None = None,
) -> IssuedAppointment:
    """Sign a new appointment token (the caller stores the appointment)."""
    if slot.tzinfo is None:
        raise AppointmentError("the slot must carry a time zone (use parse_slot)")
    expires_at = slot + valid_after_slot
    claims: dict[str, object] = {
        "appointment_id": appointment_id or new_appointment_id(),
        "service": service_id,
        # The hall's local time with its offset: every terminal reads the same instant.
        "slot": slot.astimezone(HALL_TZ).isoformat(timespec="minutes"),
        "masked_name": mask_name(name),
        "hall": hall,
        "exp": int(expires_at.timestamp()),
    }
    token = sign_token(claims, keys)
    return IssuedAppointment(
        appointment_id=str(claims["appointment_id"]),
        service_id=service_id,
        slot=slot.astimezone(UTC),
        masked_name=str(claims["masked_name"]),
        hall=hall,
        expires_at=datetime.fromtimestamp(int(expires_at.timestamp()), tz=UTC),
        token=token,
    )
