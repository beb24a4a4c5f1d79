"""Small builders for the kiosk's look: labels, buttons and cards with a style role."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.theme import set_role


def label(text: str, role: str = "", *, wrap: bool = True, name: str = "") -> QLabel:
    """A label with a style role; wrapping by default (no clipped text)."""
    widget = QLabel(text)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    if role:
        set_role(widget, role)
    if name:
        widget.setObjectName(name)
    return widget


def button(
    text: str,
    on_click: Callable[[], None] | None = None,
    role: str = "",
    *,
    name: str = "",
    checkable: bool = False,
    focus: bool = False,
) -> QPushButton:
    """A big touch button; never takes keyboard focus unless asked (keypads keep the field's focus)."""
    widget = QPushButton(text.replace("&", "&&"))  # "&" would make a keyboard mnemonic ("Household _Residence")
    widget.setCheckable(checkable)
    if not focus:
        widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    if role:
        set_role(widget, role)
    if name:
        widget.setObjectName(name)
    if on_click is not None:
        widget.clicked.connect(lambda *_: on_click())
    return widget


def fit_one_line(widget: QLabel, max_width: int, padding: int = 80) -> QLabel:
    """Shrink a one-line label's font until its text fits ``max_width`` px (receipt numbers on a portrait screen).

    The style sheet's size is the starting point; only a size that would overflow is changed.
    """
    widget.ensurePolished()
    font = widget.font()
    size = font.pixelSize() if font.pixelSize() > 0 else int(font.pointSizeF() * 96 / 72)
    while size > 14:
        font.setPixelSize(size)
        if QFontMetrics(font).horizontalAdvance(widget.text()) + padding <= max_width:
            break
        size -= 2
    if size != widget.font().pixelSize():
        widget.setStyleSheet(f"font-size: {size}px;")
    return widget


def card(role: str = "card", *, spacing: int = 14, margins: int = 28) -> tuple[QFrame, QVBoxLayout]:
    """A white rounded panel and its vertical layout."""
    frame = QFrame()
    set_role(frame, role)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(margins, margins - 6, margins, margins - 6)
    layout.setSpacing(spacing)
    return frame, layout


def expanding(widget: QWidget) -> QWidget:
    """Let ``widget`` grow in both directions."""
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return widget


def scrub(widget: QWidget) -> None:
    """Empty every text a citizen typed or was shown in ``widget`` and its children.

    Widgets are destroyed by the event loop a moment after a screen is left (``deleteLater``);
    until then nothing of the last citizen may remain in them. Their signals stay blocked: the
    widgets are on their way out.
    """
    for child in [*widget.findChildren(QLineEdit), *widget.findChildren(QPlainTextEdit), *widget.findChildren(QLabel)]:
        child.blockSignals(True)  # a cleared box must not "answer" empty: the screen is going, not the citizen
        child.clear()


def clear_layout(layout: QLayout) -> None:
    """Remove and destroy every item of ``layout`` (widgets are deleted, not hidden)."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()
            scrub(widget)
            widget.deleteLater()  # stays Qt-owned until the event loop destroys it (see Screen.reset)
        elif item.layout() is not None:
            clear_layout(item.layout())
            item.layout().deleteLater()
