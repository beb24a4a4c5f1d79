"""Enrolment codes, device credentials and device codes.

An enrolment code is short and typeable: 10 characters from an alphabet without look-alikes
(no 0/O, 1/I/L), shown as ``ABCDE-FGHJK``; case, spaces and dashes are ignored when typed.
About 49 bits of randomness, one use, and an expiry (24 hours by default) make guessing
useless. The platform keeps only SHA-256 hashes of codes and bearer tokens, so a copy of
its database does not let anyone enrol or call as a device.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from central.keys import PlatformKeys
from central.store import CentralStore, Device, EnrolmentCode
from sync.protocol import EnrolResponse, b64encode

log = logging.getLogger(__name__)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
DEVICE_CODE_LENGTH = 3
DEFAULT_CODE_TTL = timedelta(hours=24)
SITE_CODE_PATTERN = re.compile(r"^[A-Z0-9]{2,8}$")
# The enrolment QR's content, read by the terminal's devices.enrolment_qr (same format; a
# test holds the two together): the prefix, then {"url": ..., "code": ...} as compact JSON.
ENROLMENT_QR_PREFIX = "tongban-enrol:"


class InvalidSiteCode(ValueError):
    """A site code is not 2-8 characters of A-Z and 0-9."""


@dataclass(frozen=True)
class IssuedCode:
    """A new enrolment code as shown to the technician (the only time it is visible)."""

    code: str
    site_code: str
    expires_at: datetime


def normalise_code(text: str) -> str:
    """The code as stored: upper case, without spaces or dashes."""
    return re.sub(r"[\s\-]", "", text).upper()


def hash_secret(text: str) -> str:
    """SHA-256 hex of a code or token (what the store keeps)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_site_code(site: str) -> str:
    """Upper-cased site code; raises :class:`InvalidSiteCode` if not 2-8 of A-Z0-9."""
    value = site.strip().upper()
    if not SITE_CODE_PATTERN.match(value):
        raise InvalidSiteCode(
            f"site code {site!r} must be 2 to 8 letters A-Z or digits 0-9 (it goes into "
            "receipt numbers)"
        )
    return value


def issue_code(
    store: CentralStore, site: str, *, ttl: timedelta = DEFAULT_CODE_TTL, now: datetime | None = None
) -> IssuedCode:
    """Create and store a one-time enrolment code for a site."""
    if ttl <= timedelta(0):
        raise ValueError("the code's lifetime must be positive")
    site_code = normalise_site_code(site)
    now = now or datetime.now(UTC)
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    store.add_enrolment_code(
        EnrolmentCode(
            code_hash=hash_secret(raw), site_code=site_code, created_at=now, expires_at=now + ttl
        )
    )
    log.info("Issued an enrolment code for site %s, valid until %s", site_code, now + ttl)
    return IssuedCode(code=f"{raw[:5]}-{raw[5:]}", site_code=site_code, expires_at=now + ttl)


def enrolment_qr_text(central_url: str, code: str) -> str:
    """The QR content that hands a terminal this platform's address and a one-time code."""
    import json

    url = central_url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"the platform's address {central_url!r} must start with http:// or https://")
    return ENROLMENT_QR_PREFIX + json.dumps({"url": url, "code": code}, separators=(",", ":"))


def write_enrolment_qr(text: str, path: Path) -> None:
    """Write ``text`` as a QR code PNG at ``path`` (a full QR, never Micro QR; big modules)."""
    import segno

    # Error level M survives a phone screen's glare or a slightly crumpled print-out; scale
    # 10 px per module with the standard 4-module quiet zone reads well from 20-40 cm.
    segno.make_qr(text, error="m").save(str(path), kind="png", scale=10, border=4)


def _device_code_candidates(count: int = 32) -> list[str]:
    return [
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(DEVICE_CODE_LENGTH))
        for _ in range(count)
    ]


def enrol_device(
    store: CentralStore,
    keys: PlatformKeys,
    code: str,
    *,
    device_name: str | None = None,
    now: datetime | None = None,
) -> EnrolResponse:
    """Exchange an enrolment code for a new device and its credential.

    Raises:
        EnrolmentCodeUnknown, EnrolmentCodeUsed, EnrolmentCodeExpired (from the store)
    """
    token = secrets.token_urlsafe(32)
    device = store.redeem_enrolment_code(
        hash_secret(normalise_code(code)),
        now=now or datetime.now(UTC),
        device_id=str(uuid.uuid4()),
        token_hash=hash_secret(token),
        name=device_name,
        device_code_candidates=_device_code_candidates(),
    )
    log.info(
        "Enrolled device %s (code %s) at site %s", device.device_id, device.device_code,
        device.site_code,
    )
    return EnrolResponse(
        device_id=device.device_id,
        device_code=device.device_code,
        token=token,
        site_code=device.site_code,
        sealing_public_key=b64encode(keys.sealing_public),
        catalog_signing_public_key=b64encode(keys.signing_public),
        appointment_signing_public_key=b64encode(keys.appointment_public),
    )


def device_for_token(store: CentralStore, token: str) -> Device | None:
    """The device a bearer token belongs to (revoked or not), or ``None``."""
    return store.device_by_token_hash(hash_secret(token))
