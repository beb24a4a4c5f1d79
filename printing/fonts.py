"""The CJK font shipped with Tongban, for PDFs and raster images alike.

WenQuanYi Micro Hei (``fonts/wqy-microhei.ttc``, from Debian's ``fonts-wqy-microhei``; licence
in ``docs/fonts.md``) is loaded by path from this package, never from the system, so Chinese
renders on a machine with no CJK font installed. It is a TrueType collection: face 0 is the
proportional Micro Hei, face 1 Micro Hei Mono. reportlab embeds the glyphs used in each PDF;
Pillow draws the same outlines for thermal printers, so both measure text identically.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILE = FONT_DIR / "wqy-microhei.ttc"

SANS = "TongbanSans"
MONO = "TongbanMono"
_FACES = {SANS: 0, MONO: 1}
# How much wider a fake-bold line is drawn (the font has no bold face): stroke width per point of size.
BOLD_STROKE = 0.045

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register the shipped font with reportlab (once per process; thread-safe)."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        if not FONT_FILE.is_file():
            raise FileNotFoundError(
                f"the receipt font {FONT_FILE} is missing; reinstall Tongban (it ships inside the printing package)"
            )
        for name, index in _FACES.items():
            pdfmetrics.registerFont(TTFont(name, str(FONT_FILE), subfontIndex=index))
        _registered = True
        log.debug("Registered %s from %s", ", ".join(_FACES), FONT_FILE)


def text_width(text: str, font: str, size: float, bold: bool = False) -> float:
    """Advance width of ``text`` in points, as reportlab will draw it."""
    register_fonts()
    width = pdfmetrics.stringWidth(text, font, size)
    return width + (size * BOLD_STROKE if bold and text else 0.0)


@lru_cache(maxsize=8)
def _metrics(font: str) -> tuple[float, float]:
    register_fonts()
    face = pdfmetrics.getFont(font).face
    return face.ascent / 1000, -face.descent / 1000


def ascent(font: str, size: float) -> float:
    """Height above the baseline of the font's tallest glyphs, in points."""
    return _metrics(font)[0] * size


def descent(font: str, size: float) -> float:
    """Depth below the baseline (positive), in points."""
    return _metrics(font)[1] * size


@lru_cache(maxsize=64)
def pil_font(font: str, size_px: float) -> ImageFont.FreeTypeFont:
    """The same face for Pillow at ``size_px`` pixels (fractional sizes keep widths exact)."""
    return ImageFont.truetype(str(FONT_FILE), size=size_px, index=_FACES[font])
