"""Appointment tokens: the QR code a citizen brings for an online appointment (O2O).

The central platform signs the token; the kiosk verifies it offline with the platform's
Ed25519 public key, so check-in works even when the network is down. The format::

    TBA1.<claims>.<signature>

    claims     base64url (no padding) of UTF-8 JSON, an object with exactly:
               appointment_id (str), service (str, a service id), slot (str, ISO 8601
               local date-time of the appointment), masked_name (str, e.g. "张*三"),
               hall (str, the site code), exp (int, Unix seconds after which the token
               is refused)
    signature  base64url (no padding) of the 64-byte Ed25519 signature over the ASCII
               bytes "TBA1.<claims>" (everything before the second dot)

The ``TBA1.`` prefix is part of the signed bytes, so a signature the platform made for
anything else (a catalog bundle, say) can never pass as an appointment. Only a masked
name travels in the token: a QR code on a phone screen is seen by others in the queue.

The format is defined here because the kiosk is the party that must read it; the central
platform may not import ``devices`` and should copy :func:`sign_appointment_token`'s few
lines (or the lead moves this module next to ``sync/protocol.py``). ``docs/devices.md``
documents it for other implementations.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

PREFIX = "TBA1."
MAX_TOKEN_LENGTH = 1024  # a real token is about 350 characters
SIGNATURE_LENGTH = 64
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+")
_CLAIMS = {"appointment_id": str, "service": str, "slot": str, "masked_name": str, "hall": str, "exp": int}
_MAX_CLAIM_LENGTH = 128
_MAX_EXP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds


class AppointmentTokenError(ValueError):
    """An appointment token that is malformed, forged, or for another platform."""


class AppointmentForged(AppointmentTokenError):
    """A well-formed appointment token whose signature does not verify (forged or altered)."""


class AppointmentExpired(AppointmentTokenError):
    """A genuine appointment token whose expiry time has passed."""


@dataclass(frozen=True)
class Appointment:
    """The verified claims of an appointment token."""

    appointment_id: str
    service: str
    slot: str
    masked_name: str
    hall: str
    exp: int

    @property
    def expires_at(self) -> dt.datetime:
        """The expiry as an aware UTC date-time."""
        return dt.datetime.fromtimestamp(self.exp, tz=dt.UTC)


def looks_like_appointment_token(text: str) -> bool:
    """Whether ``text`` claims to be an appointment token (by its prefix only)."""
    return text.startswith(PREFIX)


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str, what: str) -> bytes:
    if not _B64URL_RE.fullmatch(text):
        raise AppointmentTokenError(f"the appointment token's {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise AppointmentTokenError(f"the appointment token's {what} is not base64url") from exc


def _public_key(key: Ed25519PublicKey | bytes) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    if len(key) != 32:
        raise ValueError("an Ed25519 public key is 32 raw bytes")
    return Ed25519PublicKey.from_public_bytes(bytes(key))


def sign_appointment_token(appointment: Appointment, private_key: Ed25519PrivateKey) -> str:
    """Make the token for ``appointment`` (what the central platform does; tests use it too)."""
    claims = {name: getattr(appointment, name) for name in _CLAIMS}
    body = PREFIX + _b64url_encode(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return body + "." + _b64url_encode(private_key.sign(body.encode("ascii")))


def verify_appointment_token(
    text: str, public_key: Ed25519PublicKey | bytes, *, now: float | None = None
) -> Appointment:
    """Check an appointment token's signature and expiry, offline; return its claims.

    ``public_key`` is the central platform's Ed25519 key (an object or 32 raw bytes);
    ``now`` is Unix seconds (defaults to the current time).

    Raises:
        AppointmentExpired: the token is genuine but its ``exp`` has passed.
        AppointmentForged: the signature does not verify with ``public_key``.
        AppointmentTokenError: anything else: wrong shape, bad base64, bad JSON, missing or
            extra claims, or a signature that does not verify with ``public_key``.
    """
    if len(text) > MAX_TOKEN_LENGTH:
        raise AppointmentTokenError(f"the appointment token is {len(text)} characters; at most {MAX_TOKEN_LENGTH}")
    if not looks_like_appointment_token(text):
        raise AppointmentTokenError(f"an appointment token starts with {PREFIX!r}")
    parts = text[len(PREFIX) :].split(".")
    if len(parts) != 2:
        raise AppointmentTokenError("an appointment token has exactly three parts: TBA1.<claims>.<signature>")
    claims_b64, signature_b64 = parts
    if not _B64URL_RE.fullmatch(claims_b64):  # checked first: only ASCII can be signed bytes
        raise AppointmentTokenError("the appointment token's claims are not base64url")
    signature = _b64url_decode(signature_b64, "signature")
    if len(signature) != SIGNATURE_LENGTH:
        raise AppointmentTokenError("the appointment token's signature is not 64 bytes")
    # Verify before parsing the claims: nothing an attacker wrote is interpreted unless signed.
    try:
        _public_key(public_key).verify(signature, (PREFIX + claims_b64).encode("ascii"))
    except InvalidSignature as exc:
        raise AppointmentForged(
            "the appointment token's signature does not verify: it was not issued by this platform"
        ) from exc
    appointment = _claims(_b64url_decode(claims_b64, "claims"))
    if (time.time() if now is None else now) >= appointment.exp:
        raise AppointmentExpired(f"the appointment token expired at {appointment.expires_at.isoformat()}")
    return appointment


def _claims(raw: bytes) -> Appointment:
    try:
        claims: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AppointmentTokenError("the appointment token's claims are not JSON") from exc
    if not isinstance(claims, dict) or set(claims) != set(_CLAIMS):
        raise AppointmentTokenError(f"the appointment token's claims must be exactly {sorted(_CLAIMS)}")
    for name, kind in _CLAIMS.items():
        value = claims[name]
        # bool is an int in Python; a JSON true is not a time.
        if not isinstance(value, kind) or isinstance(value, bool):
            raise AppointmentTokenError(f"the appointment token's {name} must be a {kind.__name__}")
        if isinstance(value, str) and not 0 < len(value) <= _MAX_CLAIM_LENGTH:
            raise AppointmentTokenError(f"the appointment token's {name} must be 1-{_MAX_CLAIM_LENGTH} characters")
    if not 0 <= claims["exp"] <= _MAX_EXP:  # expires_at must be a date-time the kiosk can show
        raise AppointmentTokenError("the appointment token's exp is not a time between 1970 and 9999")
    return Appointment(**claims)
