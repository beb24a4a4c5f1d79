"""The paper a document is laid out for: 80 mm and 58 mm thermal rolls, and A4.

Roll receipts are laid out on exactly the width the print head covers, so the PDF and the
ESC/POS raster are the same picture: 576 dots on an 80 mm roll and 384 dots on a 58 mm roll
at 203 dpi (72 mm and 48 mm of printable width). The PDF page is the full roll width with
the unprinted edges as margins; its length follows the content.
"""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4  # points per millimetre
THERMAL_DPI = 203


@dataclass(frozen=True)
class Paper:
    """One paper format.

    ``dots`` is the print head's width in dots at ``dpi`` for rolls (``None`` for sheets);
    ``height_mm`` is ``None`` for rolls, whose length follows the content.
    """

    name: str
    width_mm: float
    height_mm: float | None
    dots: int | None
    dpi: int = THERMAL_DPI
    margin_mm: float = 0.0  # sheets: every side; rolls: top and bottom of the PDF page

    @property
    def is_roll(self) -> bool:
        """Whether this is a continuous roll (cut after each document)."""
        return self.height_mm is None

    @property
    def width_pt(self) -> float:
        """Width of the paper in points."""
        return self.width_mm * MM

    @property
    def height_pt(self) -> float | None:
        """Height of a sheet in points (``None`` for rolls)."""
        return None if self.height_mm is None else self.height_mm * MM

    @property
    def content_width_pt(self) -> float:
        """Width available to the layout, in points."""
        if self.dots is not None:
            return self.dots * 72 / self.dpi
        return self.width_pt - 2 * self.margin_mm * MM

    @property
    def side_margin_pt(self) -> float:
        """Blank space left and right of the content on the PDF page."""
        return (self.width_pt - self.content_width_pt) / 2

    @property
    def top_margin_pt(self) -> float:
        """Blank space above (and below) the content on the PDF page."""
        return self.margin_mm * MM


ROLL_80MM = Paper("80mm", 80.0, None, dots=576, margin_mm=4.0)
ROLL_58MM = Paper("58mm", 58.0, None, dots=384, margin_mm=4.0)
A4 = Paper("a4", 210.0, 297.0, dots=None, dpi=300, margin_mm=12.0)

PAPERS: dict[str, Paper] = {p.name: p for p in (ROLL_80MM, ROLL_58MM, A4)}


def paper_named(name: str) -> Paper:
    """The paper called ``name`` (``80mm``, ``58mm`` or ``a4``, any case).

    Raises:
        ValueError: no such paper; the message lists the known ones.
    """
    try:
        return PAPERS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown paper {name!r}; use one of {', '.join(PAPERS)}") from None
