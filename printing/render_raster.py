"""Draw a laid-out roll :class:`~printing.layout.Document` as a 1-bit image for a thermal printer.

The image is exactly the print head's width (576 dots for 80 mm, 384 for 58 mm at 203 dpi)
and holds only black and white, so what the printer receives is what the test sees.
Chinese text reaches ESC/POS printers only this way: their built-in fonts and code pages
are unreliable for GB 18030.
"""

from __future__ import annotations

import logging
import math

from PIL import Image, ImageDraw

from printing import fonts
from printing.errors import PrintError
from printing.fonts import BOLD_STROKE
from printing.layout import BoxItem, Document, QrItem, RuleItem, TextItem
from printing.qr import dark_runs, qr_matrix

log = logging.getLogger(__name__)

# Grey (anti-aliased) pixels darker than this become black: thin strokes of small
# Chinese characters stay whole on a 203 dpi head.
THRESHOLD = 150
# Blank dots below the content so the cutter does not cut through the last line.
BOTTOM_FEED_DOTS = 24


def render_raster(doc: Document) -> Image.Image:
    """The document as a mode ``"1"`` image, ``paper.dots`` wide.

    Raises:
        PrintError: the document is laid out for a sheet, not a roll.
    """
    paper = doc.paper
    if paper.dots is None or not paper.is_roll:
        raise PrintError(f"{paper.name} is not a thermal roll; raster output needs 80mm or 58mm paper")
    scale = paper.dpi / 72
    page = doc.pages[0]
    width = paper.dots
    height = math.ceil(page.height * scale) + BOTTOM_FEED_DOTS
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for item in page.items:
        _draw(draw, item, scale)
    # Pure black and white, no dithering: the printer would dither grey text into noise.
    bw = image.point(lambda v: 0 if v < THRESHOLD else 255).convert("1", dither=Image.Dither.NONE)
    log.debug("Rendered %s as raster %dx%d", doc.title, width, height)
    return bw


def _draw(draw: ImageDraw.ImageDraw, item: object, scale: float) -> None:
    if isinstance(item, TextItem):
        font = fonts.pil_font(item.font, item.size * scale)
        fill = 255 if item.white else 0
        stroke = max(1, round(item.size * BOLD_STROKE * scale / 2)) if item.bold else 0
        x = item.x * scale + stroke
        draw.text((x, item.y * scale), item.text, font=font, fill=fill, anchor="ls",
                  stroke_width=stroke, stroke_fill=fill)
    elif isinstance(item, RuleItem):
        y0 = round((item.y - item.thickness / 2) * scale)
        y1 = max(y0, round((item.y + item.thickness / 2) * scale) - 1)
        x0, x1 = round(item.x * scale), round((item.x + item.width) * scale) - 1
        if item.dashed:
            dash, gap = round(3 * scale), round(2 * scale)
            for start in range(x0, x1 + 1, dash + gap):
                draw.rectangle((start, y0, min(start + dash - 1, x1), y1), fill=0)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=0)
    elif isinstance(item, BoxItem):
        box = (round(item.x * scale), round(item.y * scale),
               round((item.x + item.width) * scale) - 1, round((item.y + item.height) * scale) - 1)
        if item.filled:
            draw.rectangle(box, fill=0)
        else:
            draw.rectangle(box, outline=0, width=max(1, round(item.thickness * scale)))
    elif isinstance(item, QrItem):
        matrix = qr_matrix(item.data)
        box = item.size * scale
        module = max(1, int(box // len(matrix)))  # whole dots per module keep the code crisp
        left = round(item.x * scale + (box - module * len(matrix)) / 2)
        top = round(item.y * scale + (box - module * len(matrix)) / 2)
        for r, row in enumerate(matrix):
            for start, length in dark_runs(row):
                draw.rectangle((left + start * module, top + r * module,
                                left + (start + length) * module - 1, top + (r + 1) * module - 1), fill=0)
    else:  # pragma: no cover - Item is a closed union
        raise TypeError(f"cannot draw {item!r}")
