"""Barcode decoders for camera frames and image files: zxing-cpp and pyzbar.

Both are supported and chosen by name (``make_decoder("zxing" | "zbar")``). They differ,
and each says honestly what it can read (:attr:`Decoder.supported_formats`):

========== ==== ========== ====== ======= ======
decoder     QR  DataMatrix PDF417 Code128 EAN-13
========== ==== ========== ====== ======= ======
zxing       yes yes        yes    yes     yes
zbar        yes no         no     yes     yes
========== ==== ========== ====== ======= ======

Asking a decoder for a format it cannot read raises :class:`UnsupportedFormat` when the
decoder is made, so a misconfigured kiosk fails at start-up with the reason, not silently
at the counter.

pyzbar guesses Shift-JIS for QR byte segments without an ECI marker, turning the UTF-8
Chinese most phones and generators produce into mojibake ("通办" becomes "騾壼萱");
:func:`repair_mojibake` reverses that exactly when the reversal round-trips to valid
UTF-8 (see ``../shared/ENVIRONMENT.md``, "Barcodes"). zxing-cpp guesses UTF-8 correctly
for byte segments, but a generator that puts UTF-8 bytes into QR *kanji* mode (segno does
when the bytes happen to pair up as Shift-JIS) forces the same mojibake on every reader,
so QR text from both decoders goes through the repair. Text that is valid both as
Shift-JIS kanji and as UTF-8 is therefore read as UTF-8: the likely one in China.
Chinese in GBK without ECI (older systems) is not repaired: it is never one of our own
payloads, which are ASCII, and it cannot be told apart from Latin-1 reliably.

Frames are numpy arrays (H x W grayscale, or H x W x 3/4 colour, uint8) or PIL images;
both decoders get one grayscale copy (:func:`to_gray`).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterable
from typing import Any

import numpy as np

from devices.payload import classify
from devices.scan import CAMERA_FORMATS, BarcodeFormat, Classifier, ScanResult, ScanSource, make_scan_result

log = logging.getLogger(__name__)

DECODERS = ("zxing", "zbar")
DEFAULT_DECODER = "zxing"
# What zbar guesses for a QR byte segment without ECI when the bytes also pair up as
# Shift-JIS (it does check UTF-8 first otherwise, so a Latin-1 guess never hides UTF-8).
_MOJIBAKE_CODECS = ("shift_jis", "cp932")

_ZXING_FAMILIES: dict[BarcodeFormat, tuple[str, ...]] = {
    BarcodeFormat.QR: ("QRCode",),
    BarcodeFormat.DATA_MATRIX: ("DataMatrix",),
    BarcodeFormat.PDF417: ("PDF417",),
    BarcodeFormat.CODE128: ("Code128",),
    BarcodeFormat.EAN13: ("EAN13",),
}
# Result format names (zxing-cpp 3: QRCode covers Micro QR and rMQR) back to ours.
_ZXING_RESULTS: dict[str, BarcodeFormat] = {
    "QRCode": BarcodeFormat.QR,
    "QRCodeModel1": BarcodeFormat.QR,
    "QRCodeModel2": BarcodeFormat.QR,
    "MicroQRCode": BarcodeFormat.QR,
    "RMQRCode": BarcodeFormat.QR,
    "DataMatrix": BarcodeFormat.DATA_MATRIX,
    "PDF417": BarcodeFormat.PDF417,
    "CompactPDF417": BarcodeFormat.PDF417,
    "MicroPDF417": BarcodeFormat.PDF417,
    "Code128": BarcodeFormat.CODE128,
    "EAN13": BarcodeFormat.EAN13,
    "ISBN": BarcodeFormat.EAN13,
}
_ZBAR_SYMBOLS = {BarcodeFormat.QR: "QRCODE", BarcodeFormat.CODE128: "CODE128", BarcodeFormat.EAN13: "EAN13"}
_ZBAR_RESULTS = {name: fmt for fmt, name in _ZBAR_SYMBOLS.items()}


class DecoderError(Exception):
    """A decoder that cannot be used: unknown name, or its library is missing."""


class UnsupportedFormat(DecoderError):
    """A format was asked of a decoder that cannot read it."""


class FrameError(ValueError):
    """A frame that is not an image: wrong type, shape or pixel type."""


def to_gray(frame: Any) -> np.ndarray:
    """``frame`` as a C-contiguous H x W uint8 grayscale array (no copy when it is one).

    Accepts PIL images in any mode and numpy arrays of shape H x W, H x W x 1, H x W x 3
    (RGB or BGR: the luma weights differ little for black-on-white codes) or H x W x 4.

    Raises:
        FrameError: anything else, with what was wrong.
    """
    if hasattr(frame, "convert") and hasattr(frame, "mode"):  # a PIL image, without importing PIL here
        return np.ascontiguousarray(np.asarray(frame.convert("L")))
    if not isinstance(frame, np.ndarray):
        raise FrameError(f"a frame is a numpy array or a PIL image, not {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise FrameError(f"frame pixels must be uint8, not {frame.dtype}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 3 and frame.shape[2] in (3, 4):
        rgb = frame[:, :, :3].astype(np.uint16)
        # integer luma (BT.601): fast, and exact enough for black and white modules
        frame = ((rgb[:, :, 0] * 77 + rgb[:, :, 1] * 150 + rgb[:, :, 2] * 29) >> 8).astype(np.uint8)
    if frame.ndim != 2:
        raise FrameError(f"a frame is H x W, H x W x 3 or H x W x 4, not {frame.shape}")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise FrameError("the frame is empty")
    return np.ascontiguousarray(frame)


def repair_mojibake(text: str) -> str:
    """Undo a Shift-JIS reading of UTF-8 text; the text unchanged if it is not such mojibake.

    The repair is applied only when re-encoding with the guessed codec gives valid UTF-8
    that differs from the input, which plain ASCII, correctly decoded Chinese and real
    Japanese text never do.
    """
    if text.isascii():
        return text
    for codec in _MOJIBAKE_CODECS:
        try:
            repaired = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if repaired != text:
            return repaired
    return text


class Decoder(abc.ABC):
    """Decodes every code of the configured formats in one frame."""

    name: str
    supported_formats: frozenset[BarcodeFormat]

    def __init__(self, formats: Iterable[BarcodeFormat] | None = None, *, classifier: Classifier = classify) -> None:
        wanted = frozenset(self.supported_formats if formats is None else formats)
        missing = wanted - self.supported_formats
        if missing:
            names = ", ".join(sorted(f.value for f in missing))
            raise UnsupportedFormat(
                f"the {self.name} decoder cannot read {names}; use the zxing decoder or drop them from the formats"
            )
        if not wanted:
            raise UnsupportedFormat("no barcode formats to decode")
        self.formats = wanted
        self.classifier = classifier

    def decode(self, frame: Any, *, source: ScanSource = ScanSource.CAMERA) -> list[ScanResult]:
        """Every code found in ``frame``, classified; an empty list when there is none.

        Raises:
            FrameError: ``frame`` is not an image.
        """
        gray = to_gray(frame)
        return [
            make_scan_result(
                text, format=fmt, raw_bytes=raw, source=source, decoder=self.name, classifier=self.classifier
            )
            for fmt, text, raw in self._decode(gray)
        ]

    @abc.abstractmethod
    def _decode(self, gray: np.ndarray) -> list[tuple[BarcodeFormat, str, bytes]]:
        """(format, text, raw bytes) of each code in a grayscale frame."""


class ZxingDecoder(Decoder):
    """zxing-cpp: every format we need, the fastest and most robust (the default)."""

    name = "zxing"
    supported_formats = CAMERA_FORMATS

    def __init__(self, formats: Iterable[BarcodeFormat] | None = None, *, classifier: Classifier = classify) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise DecoderError("the zxing decoder needs the zxing-cpp package: pip install zxing-cpp") from exc
        super().__init__(formats, classifier=classifier)
        self._zxing = zxingcpp
        self._zx_formats = tuple(
            getattr(zxingcpp.BarcodeFormat, name) for fmt in sorted(self.formats) for name in _ZXING_FAMILIES[fmt]
        )

    def _decode(self, gray: np.ndarray) -> list[tuple[BarcodeFormat, str, bytes]]:
        found: list[tuple[BarcodeFormat, str, bytes]] = []
        boxes: list[tuple[BarcodeFormat, tuple[float, float, float, float]]] = []
        for barcode in self._zxing.read_barcodes(gray, formats=self._zx_formats):
            fmt = _ZXING_RESULTS.get(barcode.format.name)
            if fmt is None:  # a format in a family we asked for but do not name; ignore it
                log.debug("ignoring a %s code", barcode.format.name)
                continue
            box = _box(barcode.position)
            # zxing-cpp also searches downscaled copies and, rarely, reads a 1D code there a
            # second time, wrongly. The full-resolution read comes first; drop overlapping others.
            if any(other == fmt and _overlap(box, seen) > 0.5 for other, seen in boxes):
                log.info("dropped a conflicting %s read overlapping an earlier one", fmt.value)
                continue
            boxes.append((fmt, box))
            raw = bytes(barcode.bytes)
            text = barcode.text
            if fmt is BarcodeFormat.QR and not text.isascii():
                # Some generators put UTF-8 bytes in QR kanji mode, which every reader must
                # read as Shift-JIS. Repair only when the symbol's own bytes are that UTF-8.
                utf8 = raw.decode("utf-8", "replace")
                if text != utf8 and repair_mojibake(text) == utf8:
                    text = utf8
            found.append((fmt, text, raw))
        return found


def _box(position: Any) -> tuple[float, float, float, float]:
    points = [position.top_left, position.top_right, position.bottom_right, position.bottom_left]
    xs, ys = [p.x for p in points], [p.y for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller box's area (0..1); degenerate boxes count by extent."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width < 0 or height < 0:
        return 0.0
    area = min(max(a[2] - a[0], 1) * max(a[3] - a[1], 1), max(b[2] - b[0], 1) * max(b[3] - b[1], 1))
    return max(width, 1) * max(height, 1) / area


class ZbarDecoder(Decoder):
    """pyzbar (libzbar0): QR, Code128 and EAN-13; no DataMatrix, and no usable PDF417."""

    name = "zbar"
    supported_formats = frozenset({BarcodeFormat.QR, BarcodeFormat.CODE128, BarcodeFormat.EAN13})

    def __init__(self, formats: Iterable[BarcodeFormat] | None = None, *, classifier: Classifier = classify) -> None:
        try:
            from pyzbar import pyzbar
        except ImportError as exc:  # pyzbar raises ImportError when libzbar is missing too
            raise DecoderError(
                f"the zbar decoder is unavailable ({exc}); install libzbar0 (apt-get install libzbar0) "
                "or use the zxing decoder"
            ) from exc
        super().__init__(formats, classifier=classifier)
        self._pyzbar = pyzbar
        self._symbols = [getattr(pyzbar.ZBarSymbol, _ZBAR_SYMBOLS[fmt]) for fmt in sorted(self.formats)]

    def _decode(self, gray: np.ndarray) -> list[tuple[BarcodeFormat, str, bytes]]:
        found: list[tuple[BarcodeFormat, str, bytes]] = []
        for symbol in self._pyzbar.decode(gray, symbols=self._symbols):
            fmt = _ZBAR_RESULTS.get(symbol.type)
            if fmt is None:
                continue
            # zbar hands back text it already transcoded to UTF-8, not the symbol's raw bytes.
            text = symbol.data.decode("utf-8", "replace")
            if fmt is BarcodeFormat.QR:
                text = repair_mojibake(text)
            found.append((fmt, text, text.encode("utf-8")))
        return found


def make_decoder(
    name: str = DEFAULT_DECODER, formats: Iterable[BarcodeFormat] | None = None, *, classifier: Classifier = classify
) -> Decoder:
    """The decoder called ``name`` ("zxing" or "zbar") for ``formats`` (default: all it can read).

    Raises:
        DecoderError: unknown name, or the decoder's library is missing.
        UnsupportedFormat: a format the decoder cannot read.
    """
    if name == "zxing":
        return ZxingDecoder(formats, classifier=classifier)
    if name == "zbar":
        return ZbarDecoder(formats, classifier=classifier)
    raise DecoderError(f"unknown decoder {name!r}; choose one of: {', '.join(DECODERS)}")
