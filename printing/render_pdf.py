"""Draw a laid-out :class:`~printing.layout.Document` as a PDF with the CJK font embedded."""

from __future__ import annotations

import io
import logging

from reportlab.lib.colors import black, white
from reportlab.pdfgen.canvas import Canvas

from printing import fonts
from printing.fonts import BOLD_STROKE
from printing.layout import BoxItem, Document, QrItem, RuleItem, TextItem
from printing.qr import dark_runs, qr_matrix

log = logging.getLogger(__name__)


def render_pdf(doc: Document) -> bytes:
    """The document as PDF bytes.

    A roll document is one page as wide as the roll and as long as its content; a sheet
    document has one page per laid-out page.
    """
    fonts.register_fonts()
    paper = doc.paper
    buf = io.BytesIO()
    first_height = _page_height(doc, 0)
    canvas = Canvas(buf, pagesize=(paper.width_pt, first_height), pageCompression=1, invariant=1)
    canvas.setTitle(doc.title)
    canvas.setAuthor("Tongban")
    canvas.setCreator("Tongban printing")
    for number, page in enumerate(doc.pages):
        height = _page_height(doc, number)
        canvas.setPageSize((paper.width_pt, height))
        ox, oy = paper.side_margin_pt, paper.top_margin_pt
        for item in page.items:
            _draw(canvas, item, ox, oy, height)
        canvas.showPage()
    canvas.save()
    data = buf.getvalue()
    log.debug("Rendered %s as PDF: %d pages, %d bytes", doc.title, len(doc.pages), len(data))
    return data


def _page_height(doc: Document, number: int) -> float:
    paper = doc.paper
    if paper.height_pt is not None:
        return paper.height_pt
    return doc.pages[number].height + 2 * paper.top_margin_pt


def _draw(canvas: Canvas, item: object, ox: float, oy: float, page_height: float) -> None:
    def y(top: float) -> float:
        return page_height - (oy + top)

    if isinstance(item, TextItem):
        colour = white if item.white else black
        # a fake-bold stroke reaches half its width outside the glyphs: keep it inside the measured box
        nudge = item.size * BOLD_STROKE / 2 if item.bold else 0.0
        canvas.saveState()  # the text render mode is graphics state: keep a bold line's mode to itself
        text = canvas.beginText(ox + item.x + nudge, y(item.y))
        text.setFont(item.font, item.size)
        text.setFillColor(colour)
        if item.bold:  # the font has no bold face: fill and stroke the outlines
            canvas.setStrokeColor(colour)
            canvas.setLineWidth(item.size * BOLD_STROKE)
            text.setTextRenderMode(2)
        text.textOut(item.text)
        canvas.drawText(text)
        canvas.restoreState()
    elif isinstance(item, RuleItem):
        canvas.setStrokeColor(black)
        canvas.setLineWidth(item.thickness)
        canvas.setDash(3, 2) if item.dashed else canvas.setDash()
        canvas.line(ox + item.x, y(item.y), ox + item.x + item.width, y(item.y))
        canvas.setDash()
    elif isinstance(item, BoxItem):
        if item.filled:
            canvas.setFillColor(black)
            canvas.rect(ox + item.x, y(item.y + item.height), item.width, item.height, stroke=0, fill=1)
        else:
            inset = item.thickness / 2
            canvas.setStrokeColor(black)
            canvas.setLineWidth(item.thickness)
            canvas.rect(ox + item.x + inset, y(item.y + item.height - inset), item.width - 2 * inset,
                        item.height - 2 * inset, stroke=1, fill=0)
    elif isinstance(item, QrItem):
        matrix = qr_matrix(item.data)
        module = item.size / len(matrix)
        canvas.setFillColor(black)
        for r, row in enumerate(matrix):
            for start, length in dark_runs(row):
                canvas.rect(ox + item.x + start * module, y(item.y + (r + 1) * module), length * module, module,
                            stroke=0, fill=1)
    else:  # pragma: no cover - Item is a closed union
        raise TypeError(f"cannot draw {item!r}")
