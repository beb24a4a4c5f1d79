"""Generated barcodes for decoder tests and benchmarks: segno for QR, zxing-cpp for the rest."""

from __future__ import annotations

import io
import random

import numpy as np
import segno
import zxingcpp
from PIL import Image, ImageFilter

from devices.scan import BarcodeFormat

_ZXING_WRITERS = {
    BarcodeFormat.DATA_MATRIX: zxingcpp.BarcodeFormat.DataMatrix,
    BarcodeFormat.PDF417: zxingcpp.BarcodeFormat.PDF417,
    BarcodeFormat.CODE128: zxingcpp.BarcodeFormat.Code128,
    BarcodeFormat.EAN13: zxingcpp.BarcodeFormat.EAN13,
}


def qr_image(
    text: str, *, eci: bool = False, scale: int = 6, border: int = 4, mode: str | None = "byte"
) -> Image.Image:
    """A QR code (never Micro QR) of ``text`` as UTF-8 bytes, with or without an ECI marker.

    ``mode="byte"`` is what phones and most generators produce; ``mode=None`` lets segno
    choose, and it picks kanji mode when UTF-8 bytes happen to pair up as Shift-JIS.
    """
    code = segno.make_qr(text, encoding="utf-8", eci=eci, mode=mode)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=border)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def code_image(fmt: BarcodeFormat, text: str, *, scale: int = 4, eci: bool = False) -> Image.Image:
    """A code of any format we read, on a white quiet zone."""
    if fmt is BarcodeFormat.QR:
        return qr_image(text, eci=eci, scale=scale + 2)
    barcode = zxingcpp.create_barcode(text, _ZXING_WRITERS[fmt])
    pixels = np.asarray(barcode.to_image(scale=scale))
    return Image.fromarray(np.pad(pixels, 10 * scale, constant_values=255))


def rotated(image: Image.Image, degrees: float) -> Image.Image:
    """``image`` turned by ``degrees``, the corners filled white like paper."""
    return image.rotate(degrees, expand=True, fillcolor=255, resample=Image.Resampling.BILINEAR)


def blurred(image: Image.Image, radius: float) -> Image.Image:
    """``image`` out of focus by a Gaussian ``radius`` in pixels."""
    return image.filter(ImageFilter.GaussianBlur(radius))


def camera_frame(
    code: Image.Image,
    *,
    rng: random.Random,
    size: tuple[int, int] = (1280, 720),
    noise: float = 0.0,
    contrast: float = 1.0,
) -> np.ndarray:
    """A grayscale ``size`` camera frame with ``code`` pasted somewhere on a grey background.

    ``noise`` is the standard deviation of added Gaussian sensor noise (0-255 scale);
    ``contrast`` below 1 washes the code out towards mid-grey (a phone screen in glare).
    """
    width, height = size
    frame = Image.new("L", size, 170)
    if code.width > width or code.height > height:
        factor = min(width / code.width, height / code.height) * 0.9
        code = code.resize((int(code.width * factor), int(code.height * factor)), Image.Resampling.BILINEAR)
    x = rng.randint(0, width - code.width)
    y = rng.randint(0, height - code.height)
    frame.paste(code, (x, y))
    pixels = np.asarray(frame, dtype=np.float32)
    if contrast != 1.0:
        pixels = 128 + (pixels - 128) * contrast
    if noise:
        pixels = pixels + np.random.default_rng(rng.randrange(2**32)).normal(0, noise, pixels.shape)
    return np.clip(pixels, 0, 255).astype(np.uint8)
