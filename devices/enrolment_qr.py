"""Enrolment QR codes: how a technician hands a terminal its central platform and code.

The central platform's admin shows a QR code; the technician scans it at the terminal
instead of typing a URL and a one-time code. The content::

    tongban-enrol:{"url":"https://central.example.gov.cn","code":"K7M2-9QXD"}

that is, the prefix ``tongban-enrol:`` and a JSON object with exactly ``url`` (http or
https, with a host) and ``code`` (4-64 characters of A-Z, a-z, 0-9, '-', ' ', as
``POST /v1/enrol`` accepts). The code is a one-time secret: it is never logged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

PREFIX = "tongban-enrol:"
MAX_ENROLMENT_QR = 1024
_CODE_RE = re.compile(r"[A-Za-z0-9 -]{4,64}")
_MAX_URL = 512


class EnrolmentQrError(ValueError):
    """Text that claims to be an enrolment QR code but is malformed."""


@dataclass(frozen=True)
class EnrolmentCode:
    """A central platform address and the one-time code to enrol this terminal with it."""

    url: str
    code: str = field(repr=False)


def looks_like_enrolment_qr(text: str) -> bool:
    """Whether ``text`` claims to be an enrolment QR code (by its prefix only)."""
    return text.startswith(PREFIX)


def make_enrolment_qr(code: EnrolmentCode) -> str:
    """The QR content for ``code`` (what the central platform's admin shows)."""
    return PREFIX + json.dumps({"url": code.url, "code": code.code}, separators=(",", ":"))


def parse_enrolment_qr(text: str) -> EnrolmentCode:
    """Read an enrolment QR code.

    Raises:
        EnrolmentQrError: wrong prefix, not JSON, other keys, a URL that is not http(s)
            with a host, or a code of the wrong shape.
    """
    if len(text) > MAX_ENROLMENT_QR:
        raise EnrolmentQrError(f"the enrolment code is {len(text)} characters; at most {MAX_ENROLMENT_QR}")
    if not looks_like_enrolment_qr(text):
        raise EnrolmentQrError(f"an enrolment QR code starts with {PREFIX!r}")
    try:
        data: Any = json.loads(text[len(PREFIX) :])
    except ValueError as exc:
        raise EnrolmentQrError("the enrolment QR code does not carry JSON after its prefix") from exc
    if not isinstance(data, dict) or set(data) != {"url", "code"}:
        raise EnrolmentQrError('the enrolment QR code must carry exactly {"url": ..., "code": ...}')
    url, code = data["url"], data["code"]
    if not isinstance(url, str) or len(url) > _MAX_URL or not is_http_url(url):
        raise EnrolmentQrError("the enrolment QR code's url must be an http(s) address with a host")
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise EnrolmentQrError("the enrolment QR code's code must be 4-64 letters, digits, '-' or spaces")
    return EnrolmentCode(url=url, code=code)


def is_http_url(text: str) -> bool:
    """Whether ``text`` is an absolute http(s) URL with a host (checked, never fetched)."""
    if any(c.isspace() or ord(c) < 0x20 for c in text):
        return False
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and port_ok
