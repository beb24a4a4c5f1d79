"""What every screen shares: rebuilt from state on entry and on every language or theme change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from kiosk.ui.widgets.common import grab_touch_scrolling, label, scrub

if TYPE_CHECKING:
    from kiosk.ui.app import KioskWindow


class Screen(QWidget):
    """A full screen of the journey.

    Subclasses implement :meth:`build`, which lays the screen out from the shared state
    (language, theme, session). :meth:`render` throws the old widgets away and builds
    again, so a language switch re-renders everything and :meth:`reset` leaves nothing of
    the last citizen behind.
    """

    name = "screen"

    def __init__(self, shell: KioskWindow) -> None:
        super().__init__()
        self.shell = shell
        self.state = shell.state
        self.setObjectName(f"screen_{self.name}")
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(0, 0, 0, 0)
        self.content: QWidget | None = None

    @property
    def margin(self) -> int:
        """Outer margin, a little larger on a landscape screen."""
        return 56 if self.shell.width() >= 1500 else 36

    def render(self) -> None:
        """Build the screen afresh from the current state."""
        self.reset()
        self.content = QWidget()
        self.content.setObjectName("content")
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(self.margin, 36, self.margin, 36)
        layout.setSpacing(24)
        self.build(layout)
        self._outer.addWidget(self.content)
        self.content.show()  # at once, not on the next turn of the event loop

    def build(self, layout: QVBoxLayout) -> None:
        """Lay the screen out (subclasses)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Destroy every widget of the screen (nothing of a citizen stays on screen)."""
        if self.content is not None:
            self.content.hide()
            self._outer.removeWidget(self.content)
            scrub(self.content)
            # Still parented to the screen, the widget stays owned by Qt and is destroyed by the event
            # loop on the UI thread. (setParent(None) would hand it to Python, whose garbage collector
            # may then destroy it on whichever thread happens to collect: a crash.)
            self.content.deleteLater()
            self.content = None

    def entered(self) -> None:
        """Called when the screen is shown; renders by default."""
        self.render()

    def instruction(self) -> str:
        """What voice guidance reads when the screen appears: its title and the line under it."""
        if self.content is None:
            return ""
        parts = [w.text() for name in ("title", "welcome", "subtitle", "message")
                 if (w := self.content.findChild(QLabel, name)) is not None and w.text()]
        return "。".join(parts) if self.state.lang != "en" else ". ".join(parts)

    # --- helpers -------------------------------------------------------------------------

    def header(self, layout: QVBoxLayout, title: str, subtitle: str = "") -> None:
        """The screen's title (and a line under it)."""
        layout.addWidget(label(title, "title", name="title"))
        if subtitle:
            layout.addWidget(label(subtitle, "subtitle", name="subtitle"))

    @staticmethod
    def scroll(inner: QWidget) -> QScrollArea:
        """A touch-scrollable area around ``inner``."""
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(inner)
        grab_touch_scrolling(area.viewport())
        return area

    @staticmethod
    def footer(layout: QVBoxLayout) -> QHBoxLayout:
        """A row of buttons at the bottom of the screen."""
        row = QHBoxLayout()
        row.setSpacing(24)
        layout.addLayout(row)
        return row
