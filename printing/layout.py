"""A small layout engine: text that wraps, rules, boxes and QR codes, placed once.

Layouts (:mod:`printing.receipt`, :mod:`printing.ticket`) describe a document top to bottom
with a :class:`Flow`; the result is a :class:`Document`, a list of positioned drawing items
in points (origin at the top left of the printable area, y growing downwards). The PDF
renderer and the raster renderer both draw that same list, so a receipt looks the same
on an A4 laser printer, a thermal roll and in the PDF a technician opens.

Wrapping never lets text leave the column: Chinese breaks between any two characters
(except before closing punctuation such as ``，。）``), Latin text at spaces, and a word
longer than the line (a long name, a URL) is broken between letters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from printing import fonts
from printing.fonts import SANS
from printing.paper import Paper

Align = Literal["left", "center", "right"]

# Characters that must not start a line, and that must not end one (simplified 禁则).
_NO_LINE_START = frozenset("，。、；：？！）》」』】〉”’,.;:?!)]}%…·")
_NO_LINE_END = frozenset("（《「『【〈“‘([{")


# --- drawing items --------------------------------------------------------------------------


@dataclass(frozen=True)
class TextItem:
    """One line of text; ``y`` is its baseline."""

    x: float
    y: float
    text: str
    font: str
    size: float
    bold: bool = False
    white: bool = False  # white on a black box (the TEST banner)


@dataclass(frozen=True)
class RuleItem:
    """A horizontal line from ``x`` to ``x + width`` at ``y``."""

    x: float
    y: float
    width: float
    thickness: float = 0.8
    dashed: bool = False


@dataclass(frozen=True)
class BoxItem:
    """A rectangle: filled black, or a frame of ``thickness``."""

    x: float
    y: float
    width: float
    height: float
    filled: bool = False
    thickness: float = 1.0


@dataclass(frozen=True)
class QrItem:
    """A square QR code (quiet zone included) of ``size`` points holding ``data``."""

    x: float
    y: float
    size: float
    data: str


Item = TextItem | RuleItem | BoxItem | QrItem


def shift(item: Item, dx: float, dy: float) -> Item:
    """``item`` moved by ``(dx, dy)``."""
    return replace(item, x=item.x + dx, y=item.y + dy)


@dataclass(frozen=True)
class Page:
    """The items of one page and the height they use (content area, points)."""

    height: float
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Document:
    """A laid-out document: pages of items for one paper."""

    paper: Paper
    title: str
    pages: tuple[Page, ...]

    @property
    def content_width(self) -> float:
        """Width of the printable column, in points."""
        return self.paper.content_width_pt

    def texts(self) -> list[str]:
        """Every line of text in reading order (for tests and logs)."""
        return [i.text for p in self.pages for i in p.items if isinstance(i, TextItem)]


# --- wrapping ---------------------------------------------------------------------------------


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Split into breakable units: single wide characters, or words with their trailing spaces."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if _is_wide(ch):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch == " ":
            word += ch
            tokens.append(word)
            word = ""
        else:
            if word.endswith(" "):
                tokens.append(word)
                word = ""
            word += ch
    if word:
        tokens.append(word)
    # glue breakable pairs that must stay together: "（" to what follows, "，" to what precedes
    glued: list[str] = []
    for tok in tokens:
        if glued and (tok[0] in _NO_LINE_START or glued[-1][-1] in _NO_LINE_END):
            glued[-1] += tok
        else:
            glued.append(tok)
    return glued


def _split_long(token: str, font: str, size: float, width: float, bold: bool) -> list[str]:
    """Break a token wider than the line between characters."""
    pieces: list[str] = []
    current = ""
    for ch in token:
        if current and fonts.text_width(current + ch, font, size, bold) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap(
    text: str, font: str, size: float, width: float, *, bold: bool = False, rest_width: float | None = None
) -> list[str]:
    """Lines of ``text`` that each fit in ``width`` points; ``\\n`` starts a new line.

    ``rest_width``, if given, is the width of every line after the first (hanging indents).
    """
    rest = width if rest_width is None else rest_width
    lines: list[str] = []

    def limit() -> float:
        return width if not lines else rest

    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph.strip()):
            if fonts.text_width((line + token).rstrip(), font, size, bold) <= limit():
                line += token
                continue
            if line.strip():
                lines.append(line.rstrip())
            token = token.lstrip()
            if fonts.text_width(token.rstrip(), font, size, bold) <= limit():
                line = token
                continue
            *full, line = _split_long(token.rstrip(), font, size, min(width, rest), bold)
            lines.extend(full)
        lines.append(line.rstrip())
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


def _balanced(text: str, font: str, size: float, width: float, count: int, bold: bool) -> list[str]:
    """Wrap into ``count`` lines of similar length (no lone character on a centred last line)."""
    best = wrap(text, font, size, width, bold=bold)
    narrower = width
    while narrower > width / count:
        narrower -= size / 2
        lines = wrap(text, font, size, narrower, bold=bold)
        if len(lines) > count:
            break
        best = lines
    return best


# --- the flow ---------------------------------------------------------------------------------


@dataclass
class Flow:
    """Lays blocks out top to bottom in a column of ``width`` points.

    With ``page_height`` set (sheets), a block that does not fit starts a new page; a
    roll has no pages and grows as long as its content.
    """

    width: float
    page_height: float | None = None
    y: float = 0.0
    _pages: list[list[Item]] = field(default_factory=lambda: [[]])
    _heights: list[float] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        """The current page's items."""
        return self._pages[-1]

    def _room_for(self, height: float) -> None:
        if self.page_height is not None and self.y > 0 and self.y + height > self.page_height:
            self._heights.append(self.y)
            self._pages.append([])
            self.y = 0.0

    def space(self, height: float) -> None:
        """Leave ``height`` points blank (dropped at the top of a new page)."""
        if self.page_height is not None and self.y + height > self.page_height:
            self._room_for(height)
            return
        self.y += height

    def text(
        self,
        text: str,
        size: float,
        *,
        font: str = SANS,
        align: Align = "left",
        bold: bool = False,
        leading: float = 1.3,
        indent: float = 0.0,
        hanging: float = 0.0,
        white: bool = False,
    ) -> int:
        """Add wrapped text; returns the number of lines.

        ``indent`` moves every line right; ``hanging`` moves every line after the first
        (for numbered lists).
        """
        if not text:
            return 0
        lines = wrap(text, font, size, self.width - indent, bold=bold, rest_width=self.width - indent - hanging)
        if align == "center" and len(lines) > 1 and not hanging:
            lines = _balanced(text, font, size, self.width - indent, len(lines), bold)
        line_height = size * leading
        top_pad = (line_height - (fonts.ascent(font, size) + fonts.descent(font, size))) / 2
        for n, line in enumerate(lines):
            self._room_for(line_height)
            x0 = indent + (hanging if n else 0.0)
            avail = self.width - x0
            w = fonts.text_width(line, font, size, bold)
            if align == "center":
                x = x0 + (avail - w) / 2
            elif align == "right":
                x = x0 + avail - w
            else:
                x = x0
            baseline = self.y + top_pad + fonts.ascent(font, size)
            self.items.append(TextItem(x, baseline, line, font, size, bold=bold, white=white))
            self.y += line_height
        return len(lines)

    def pair(
        self,
        zh: str,
        en: str,
        zh_size: float,
        en_size: float,
        *,
        font: str = SANS,
        bold: bool = False,
        align: Align = "left",
        leading: float = 1.3,
        gap: float = 0.5,
    ) -> None:
        """Chinese then English on one line if both fit (English smaller), else stacked.

        ``gap`` is the space between them on a shared line, in ems of ``zh_size``.
        """
        if not en or en == zh:
            self.text(zh, zh_size, font=font, bold=bold, align=align, leading=leading)
            return
        zh_w = fonts.text_width(zh, font, zh_size, bold)
        en_w = fonts.text_width(en, font, en_size)
        space = gap * zh_size
        if zh_w + space + en_w > self.width:
            self.text(zh, zh_size, font=font, bold=bold, align=align, leading=leading)
            self.text(en, en_size, font=font, align=align, leading=leading)
            return
        line_height = zh_size * leading
        self._room_for(line_height)
        total = zh_w + space + en_w
        x = {"left": 0.0, "center": (self.width - total) / 2, "right": self.width - total}[align]
        top_pad = (line_height - (fonts.ascent(font, zh_size) + fonts.descent(font, zh_size))) / 2
        baseline = self.y + top_pad + fonts.ascent(font, zh_size)
        self.items.append(TextItem(x, baseline, zh, font, zh_size, bold=bold))
        self.items.append(TextItem(x + zh_w + space, baseline, en, font, en_size))
        self.y += line_height

    def rule(self, *, thickness: float = 0.8, dashed: bool = False, gap: float = 6.0) -> None:
        """A full-width horizontal line with ``gap`` points above and below."""
        self._room_for(2 * gap + thickness)
        self.y += gap
        self.items.append(RuleItem(0.0, self.y + thickness / 2, self.width, thickness, dashed))
        self.y += thickness + gap

    def qr(self, data: str, size: float, *, align: Align = "center") -> None:
        """A QR code of ``size`` points (quiet zone included)."""
        size = min(size, self.width)
        self._room_for(size)
        x = {"left": 0.0, "center": (self.width - size) / 2, "right": self.width - size}[align]
        self.items.append(QrItem(x, self.y, size, data))
        self.y += size

    def group(
        self,
        build: Callable[[Flow], None],
        *,
        padding: float = 0.0,
        frame: float = 0.0,
        filled: bool = False,
    ) -> None:
        """Lay out ``build`` as one block that never splits across pages.

        ``frame`` draws a border of that thickness around it; ``filled`` a black box
        (draw white text inside). ``padding`` is the space inside the border.
        """
        inner = Flow(self.width - 2 * padding)
        build(inner)
        if len(inner._pages) != 1:  # pragma: no cover - inner flows have no page height
            raise AssertionError("a group cannot contain page breaks")
        height = inner.y + 2 * padding
        self._room_for(height)
        if filled or frame:
            self.items.append(BoxItem(0.0, self.y, self.width, height, filled=filled, thickness=frame))
        for item in inner.items:
            self.items.append(shift(item, padding, self.y + padding))
        self.y += height

    def columns(self, *parts: tuple[float, Callable[[Flow], None]], gap: float = 0.0) -> None:
        """Blocks side by side, each ``(width, build)``, kept together; as tall as the tallest.

        A width of 0 takes what the others leave (at most one part may do so).
        """
        fixed = sum(w for w, _ in parts) + gap * (len(parts) - 1)
        flexible = [w for w, _ in parts if w == 0]
        if len(flexible) > 1 or fixed > self.width + 1e-6:
            raise ValueError("columns do not fit the line")
        x = 0.0
        placed: list[tuple[float, Flow]] = []
        for width, build in parts:
            width = width or self.width - fixed
            inner = Flow(width)
            build(inner)
            placed.append((x, inner))
            x += width + gap
        height = max(inner.y for _, inner in placed)
        self._room_for(height)
        for dx, inner in placed:
            for item in inner.items:
                self.items.append(shift(item, dx, self.y))
        self.y += height

    def finish(self, paper: Paper, title: str) -> Document:
        """The laid-out document."""
        heights = [*self._heights, self.y]
        pages = tuple(Page(h, tuple(items)) for h, items in zip(heights, self._pages, strict=True))
        return Document(paper, title, pages)


def fit_size(text: str, font: str, width: float, largest: float, smallest: float, *, bold: bool = False) -> float:
    """The largest size from ``largest`` down to ``smallest`` at which ``text`` fits on one line."""
    size = largest
    while size > smallest and fonts.text_width(text, font, size, bold) > width:
        size -= 0.5
    return max(size, smallest)
