"""A modal message over the whole window: idle warning, "call staff", "cancel?", the demo panel."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.ui.theme import set_role
from kiosk.ui.widgets.common import button, card, clear_layout, label

Action = tuple[str, Callable[[], None], str, str]  # (text, on_click, role, object name)


class Overlay(QFrame):
    """Dims the screen and shows one dialog; covers its parent and follows its size."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        set_role(self, "overlay")
        self.kind = ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(60, 60, 60, 60)
        outer.addStretch(1)
        self.dialog, self.box = card("dialog", spacing=24, margins=48)
        self.dialog.setMaximumWidth(1100)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.dialog, 10)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the parent's size."""
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def open(self, kind: str, title: str, text: str, actions: Sequence[Action]) -> None:
        """Show a dialog of ``kind`` (tests and the shell use it to know which one is up)."""
        self.kind = kind
        clear_layout(self.box)
        self.title = label(title, "title", name="overlay_title")
        self.box.addWidget(self.title)
        self.text = label(text, "subtitle", name="overlay_text")
        self.box.addWidget(self.text)
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addStretch(1)
        for caption, on_click, role, name in actions:
            row.addWidget(button(caption, on_click, role, name=name))
        self.box.addLayout(row)
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()

    def add_widget(self, widget: QWidget) -> None:
        """Extra content under the text (the demo panel's card buttons)."""
        self.box.insertWidget(self.box.count() - 1, widget)

    def set_text(self, text: str) -> None:
        """Change the dialog's text (the idle countdown)."""
        self.text.setText(text)

    def close_overlay(self) -> None:
        """Hide and forget the dialog."""
        self.kind = ""
        self.hide()
        clear_layout(self.box)

    @property
    def is_open(self) -> bool:
        """True while a dialog is up."""
        return bool(self.kind)


def centered(widget: QWidget) -> QWidget:
    """``widget`` in a row, centered."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.addStretch(1)
    row.addWidget(widget, 0, Qt.AlignmentFlag.AlignCenter)
    row.addStretch(1)
    return holder
