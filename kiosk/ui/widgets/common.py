"""Small builders for the kiosk's look: labels, buttons and cards with a style role."""

from __future__ import annotations

import atexit
import re
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
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
    wrap: bool = False,
) -> QPushButton:
    """A big touch button; never takes keyboard focus unless asked (keypads keep the field's focus)."""
    # "&" would make a keyboard mnemonic ("Household _Residence"); wrap: long texts in narrow columns
    widget = WrappingButton(text) if wrap else QPushButton(text.replace("&", "&&"))
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


class WrappingButton(QPushButton):
    """A push button whose text wraps at word (or, for Chinese, character) boundaries to fit its width.

    Qt's push buttons never wrap, so a long English department name in a narrow (portrait)
    column would be cut off. The button keeps the full text and re-breaks it whenever its
    width changes; its minimum height follows the number of lines.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text.replace("&", "&&"))
        self._full = text
        self._padding = 80  # the style sheet's horizontal padding and border, both sides, and a margin
        # the layout decides the width (the unbroken text must not make the column wider)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-break the text for the new width."""
        super().resizeEvent(event)
        wrapped = wrap_text(self._full, QFontMetrics(self.font()), max(40, event.size().width() - self._padding))
        shown = wrapped.replace("&", "&&")
        if shown != self.text():
            self.setText(shown)
            lines = wrapped.count("\n") + 1
            self.setMinimumHeight(QFontMetrics(self.font()).lineSpacing() * lines + 36)


# a CJK character (a line may break after any), or a run of other characters with the spaces after it
_BREAKABLE = re.compile(r"[\u3000-\u9fff\uff00-\uffef]|[^\s\u3000-\u9fff\uff00-\uffef]+\s*|\s+")


def wrap_text(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` with line breaks so that no line is wider than ``width`` px (existing breaks kept)."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in _BREAKABLE.findall(paragraph):
            if line and metrics.horizontalAdvance((line + word).rstrip()) > width:
                out.append(line.rstrip())
                line = word.lstrip()
            else:
                line += word
        out.append(line.rstrip())
    return "\n".join(out)


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


_touch_scrolling: dict[str, object] = {}  # the one flick gesture of the application, and its owner


def grab_touch_scrolling(viewport: QWidget) -> None:
    """Let a finger drag ``viewport`` (a scroll area's) with kinetic scrolling, like a phone.

    ``QScroller.grabGesture`` registers a new gesture recognizer, and so a new gesture type,
    on every call; each type comes back to Python as a new enum member that PySide keeps
    for good, and screens build their scroll areas afresh for every citizen (about 30 KB a
    session, for ever). So the flick gesture is registered once, on a widget that lives as
    long as the application, and each viewport grabs that same gesture: the recognizer
    drives whichever viewport the gesture starts on, through the viewport's own scroller.
    """
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QScroller

    gesture = _touch_scrolling.get("gesture")
    if gesture is None:
        owner = QObject()
        gesture = QScroller.grabGesture(owner, QScroller.ScrollerGestureType.TouchGesture)
        _touch_scrolling.update(gesture=gesture, owner=owner)
        atexit.register(_release_touch_scrolling)
    QScroller.scroller(viewport)  # the viewport's scroller, which the gesture moves (destroyed with it)
    viewport.grabGesture(gesture)  # type: ignore[arg-type]
    viewport.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)


def _release_touch_scrolling() -> None:
    """At exit, before the application object goes: destroy the gesture's owner (and its scroller).

    Left to the application's own teardown, the scroller's destructor finds Qt's gesture
    machinery already gone and the process crashes on its way out.
    """
    import shiboken6

    owner = _touch_scrolling.pop("owner", None)
    _touch_scrolling.pop("gesture", None)
    if owner is not None and shiboken6.isValid(owner):
        shiboken6.delete(owner)
