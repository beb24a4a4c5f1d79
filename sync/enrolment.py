"""The terminal's enrolment: who it is to the central platform, as stored on the terminal.

Enrolment (``kiosk enroll``) exchanges a one-time code for the facts below; they are kept
in the store's ``settings`` table as one JSON value, written in one transaction. The
device token is a credential: it is stored in the database (the data folder is the
terminal's private area) but never logged or shown — :class:`Enrolment` hides it from
``repr``.

Functions here take a sqlite-utils ``Database`` and run inside the caller's transaction;
application code uses :meth:`sync.store.Store.enrolment` and
:meth:`sync.store.Store.save_enrolment`.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlite_utils import Database

from sync.receipt import is_device_code, is_site_code
from sync.store_common import StoreError, from_db_time, to_db_time

log = logging.getLogger(__name__)

SETTING_KEY = "enrolment"
ENROL_HINT = "run `kiosk enroll --central URL --code CODE`"


class NotEnrolled(StoreError):
    """The terminal has no enrolment, so it has no key to seal to and no receipt codes."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or f"the terminal is not enrolled; {ENROL_HINT}")


@dataclass(frozen=True)
class Enrolment:
    """What the central platform gave this terminal at enrolment.

    ``site_code`` (2-8 characters) and ``device_code`` (3 characters), both 0-9/A-Z, start
    every receipt number this terminal makes; ``sealing_public_key`` is the platform's
    raw 32-byte X25519 key that submissions are sealed to; ``catalog_signing_key`` is the
    raw 32-byte Ed25519 key that signed catalogs must verify against;
    ``appointment_signing_key`` is the raw 32-byte Ed25519 key appointment tokens are
    verified with (``None`` for an enrolment made before the platform had one: such a
    terminal refuses appointment check-ins until it is enrolled again).
    """

    device_id: str
    device_code: str
    site_code: str
    token: str = field(repr=False)
    sealing_public_key: bytes
    catalog_signing_key: bytes
    central_url: str
    enrolled_at: datetime
    appointment_signing_key: bytes | None = None

    def __post_init__(self) -> None:
        if not is_site_code(self.site_code):
            raise ValueError(f"site code must be 2-8 characters 0-9/A-Z, got {self.site_code!r}")
        if not is_device_code(self.device_code):
            raise ValueError(
                f"device code must be 3 characters 0-9/A-Z, got {self.device_code!r}"
            )
        if len(self.sealing_public_key) != 32:
            raise ValueError("sealing public key must be 32 raw bytes (X25519)")
        if len(self.catalog_signing_key) != 32:
            raise ValueError("catalog signing key must be 32 raw bytes (Ed25519)")
        if self.appointment_signing_key is not None and len(self.appointment_signing_key) != 32:
            raise ValueError("appointment signing key must be 32 raw bytes (Ed25519)")
        if not self.token:
            raise ValueError("device token must not be empty")


def _encode(enrolment: Enrolment) -> str:
    appointment_key = enrolment.appointment_signing_key
    return json.dumps(
        {
            "appointment_signing_key": (
                base64.b64encode(appointment_key).decode() if appointment_key else None
            ),
            "device_id": enrolment.device_id,
            "device_code": enrolment.device_code,
            "site_code": enrolment.site_code,
            "token": enrolment.token,
            "sealing_public_key": base64.b64encode(enrolment.sealing_public_key).decode(),
            "catalog_signing_key": base64.b64encode(enrolment.catalog_signing_key).decode(),
            "central_url": enrolment.central_url,
            "enrolled_at": to_db_time(enrolment.enrolled_at),
        },
        sort_keys=True,
    )


def _decode(text: str) -> Enrolment:
    data = json.loads(text)
    return Enrolment(
        device_id=data["device_id"],
        device_code=data["device_code"],
        site_code=data["site_code"],
        token=data["token"],
        sealing_public_key=base64.b64decode(data["sealing_public_key"]),
        catalog_signing_key=base64.b64decode(data["catalog_signing_key"]),
        central_url=data["central_url"],
        enrolled_at=from_db_time(data["enrolled_at"]),
        # Absent in enrolments stored before the hall features: still a valid enrolment.
        appointment_signing_key=(
            base64.b64decode(data["appointment_signing_key"])
            if data.get("appointment_signing_key") else None
        ),
    )


def load_enrolment(db: Database) -> Enrolment | None:
    """The stored enrolment, or ``None`` when the terminal has not been enrolled.

    Raises:
        StoreError: a stored enrolment exists but cannot be read (damaged settings).
    """
    row = db.execute("SELECT value FROM settings WHERE key = ?", (SETTING_KEY,)).fetchone()
    if row is None:
        return None
    try:
        return _decode(row[0])
    except (KeyError, ValueError, TypeError) as exc:
        raise StoreError(
            f"the stored enrolment is damaged ({type(exc).__name__}); enrol again: {ENROL_HINT}"
        ) from exc


def require_enrolment(db: Database) -> Enrolment:
    """The stored enrolment; raises :class:`NotEnrolled` when there is none."""
    enrolment = load_enrolment(db)
    if enrolment is None:
        raise NotEnrolled()
    return enrolment


def save_enrolment(db: Database, enrolment: Enrolment, now: datetime) -> None:
    """Store ``enrolment``, replacing any previous one (re-enrolment)."""
    db.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (SETTING_KEY, _encode(enrolment), to_db_time(now)),
    )
    log.info(
        "Enrolment stored: device %s (code %s) at site %s, central %s",
        enrolment.device_id,
        enrolment.device_code,
        enrolment.site_code,
        enrolment.central_url,
    )


def clear_enrolment(db: Database) -> None:
    """Forget the enrolment (the terminal refuses submissions until enrolled again)."""
    db.execute("DELETE FROM settings WHERE key = ?", (SETTING_KEY,))
