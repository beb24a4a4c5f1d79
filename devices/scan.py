"""One scan, from any scanner: the plain data every device hands to the screens.

Camera frames (``devices.decoder``), keyboard-wedge scanners (``devices.wedge``) and
serial scanners (``devices.serial_scanner``) all produce a :class:`ScanResult`: the
symbology, the decoded text, the bytes as read, and the payload's classification.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from devices.payload import Payload, PayloadKind, classify

log = logging.getLogger(__name__)

Classifier = Callable[[str], Payload]
"""Turns decoded text into a :class:`Payload`; the kiosk binds the platform's appointment key."""


class BarcodeFormat(enum.StrEnum):
    """The symbologies the kiosk reads. ``UNKNOWN``: a hardware scanner that does not say."""

    QR = "qr"
    DATA_MATRIX = "datamatrix"
    PDF417 = "pdf417"
    CODE128 = "code128"
    EAN13 = "ean13"
    UNKNOWN = "unknown"


CAMERA_FORMATS = frozenset(BarcodeFormat) - {BarcodeFormat.UNKNOWN}


class ScanSource(enum.StrEnum):
    """Where a scan came from."""

    CAMERA = "camera"
    IMAGE = "image"
    WEDGE = "wedge"
    SERIAL = "serial"


@dataclass(frozen=True)
class ScanResult:
    """One decoded code. ``kind`` repeats ``payload.kind`` so the result reads as plain data."""

    format: BarcodeFormat
    text: str = field(repr=False)  # may be an ID number: kept out of logs
    raw_bytes: bytes = field(repr=False)
    kind: PayloadKind
    payload: Payload
    source: ScanSource
    decoder: str = ""  # "zxing" / "zbar" for camera and image scans

    def as_json(self) -> dict[str, str]:
        """The fields a technician sees in ``kiosk scan --json``."""
        return {"format": self.format.value, "text": self.text, "kind": self.kind.value}


def make_scan_result(
    text: str,
    *,
    format: BarcodeFormat,
    source: ScanSource,
    raw_bytes: bytes | None = None,
    decoder: str = "",
    classifier: Classifier = classify,
) -> ScanResult:
    """Classify ``text`` and wrap it as a :class:`ScanResult` (raw bytes default to UTF-8)."""
    payload = classifier(text)
    return ScanResult(
        format=format,
        text=text,
        raw_bytes=text.encode("utf-8", "surrogatepass") if raw_bytes is None else raw_bytes,
        kind=payload.kind,
        payload=payload,
        source=source,
        decoder=decoder,
    )
