"""The status strip at the top of every screen.

Hall name, clock, the central platform's state, how many submissions wait to be sent,
the printer's state, and the citizen's controls: language (中文 / EN), large type (大字)
and "call staff". On a narrow (portrait) screen it folds into two rows.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QSizePolicy, QWidget

from kiosk.ui.session import KioskState
from kiosk.ui.widgets.common import button, label

NARROW = 1500  # px: below this (portrait) the strip folds into three rows


class StatusStrip(QFrame):
    """Always visible; re-renders its texts when the language changes."""

    call_staff = Signal()
    voice_toggled = Signal(bool)
    hall_tapped = Signal()  # five quick taps open the technicians' maintenance screen

    def __init__(self, state: KioskState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusStrip")
        self.state = state
        self.central = "unknown"
        self.waiting: int | None = None
        self.printer: bool | None = None
        self._two_rows: bool | None = None

        self.hall = label("", "hall", wrap=False, name="hall")
        self.hall.installEventFilter(self)
        self.clock = label("", "", wrap=False, name="clock")
        self.central_label = label("", "", wrap=False, name="central")
        self.queue_label = label("", "", wrap=False, name="queue")
        self.printer_label = label("", "", wrap=False, name="printer")
        self.lang_zh = button("中文", lambda: state.set_language("zh_CN"), checkable=True, name="lang_zh")
        self.lang_en = button("EN", lambda: state.set_language("en"), checkable=True, name="lang_en")
        self.large = button("", lambda: state.set_large_type(not state.large_type), checkable=True, name="large_type")
        self.voice = button("", lambda: self.voice_toggled.emit(not state.voice_on), checkable=True, name="voice")
        self.voice_available = True
        self.staff = button("", self.call_staff.emit, "staff", name="call_staff")
        for widget in (self.lang_zh, self.lang_en, self.large, self.voice, self.staff):
            widget.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(28, 10, 20, 10)
        self.grid.setHorizontalSpacing(26)
        self.grid.setVerticalSpacing(8)
        self._arrange(two_rows=False)

        self._clock_timer = QTimer(self)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start(1000)
        self.retranslate()

    # --- layout --------------------------------------------------------------------------

    def _arrange(self, two_rows: bool) -> None:
        if two_rows == self._two_rows:
            return
        self._two_rows = two_rows
        for widget in self._widgets():
            self.grid.removeWidget(widget)
        info = [self.hall, self.clock, self.central_label, self.queue_label, self.printer_label]
        controls = [self.lang_zh, self.lang_en, self.large, self.voice, self.staff]
        for column in range(12):
            self.grid.setColumnStretch(column, 0)
        if two_rows:  # portrait: hall and clock; then the states; then the citizen's buttons
            self.grid.addWidget(self.hall, 0, 0, 1, 3)
            self.grid.addWidget(self.clock, 0, 3, 1, 2, alignment=Qt.AlignmentFlag.AlignRight)
            for column, widget in enumerate(info[2:]):
                self.grid.addWidget(widget, 1, column, 1, 2 if column == 2 else 1)
            for column, widget in enumerate(controls):
                widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                self.grid.addWidget(widget, 2, column)
            for column in range(5):
                self.grid.setColumnStretch(column, 1)
        else:
            for column, widget in enumerate(info):
                self.grid.addWidget(widget, 0, column)
            self.grid.setColumnStretch(0, 1)
            for offset, widget in enumerate(controls):
                widget.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
                self.grid.addWidget(widget, 0, len(info) + offset)

    def _widgets(self) -> list[QWidget]:
        return [self.hall, self.clock, self.central_label, self.queue_label, self.printer_label,
                self.lang_zh, self.lang_en, self.large, self.voice, self.staff]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A tap on the hall's name (the technicians' gesture); never swallowed."""
        if watched is self.hall and event.type() == QEvent.Type.MouseButtonPress:
            self.hall_tapped.emit()
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fold into two rows on a portrait screen."""
        super().resizeEvent(event)
        self._arrange(two_rows=event.size().width() < NARROW)

    # --- texts ---------------------------------------------------------------------------

    def retranslate(self) -> None:
        """Every text in the current language."""
        s = self.state
        self.hall.setText(s.hall.name(s.lang))
        self.lang_zh.setChecked(s.lang == "zh_CN")
        self.lang_en.setChecked(s.lang == "en")
        self.large.setText(s.tr("strip.large_type"))
        self.large.setChecked(s.large_type)
        self.voice.setText(s.tr("strip.voice" if self.voice_available else "strip.voice_unavailable"))
        self.voice.setChecked(s.voice_on and self.voice_available)
        self.staff.setText(s.tr("strip.call_staff"))
        self._tick()
        self._show_central()
        self._show_queue()
        self._show_printer()

    def _tick(self) -> None:
        now = dt.datetime.now()
        self.clock.setText(self.state.tr("strip.clock", date=now.strftime("%m-%d"), time=now.strftime("%H:%M")))

    def set_central_state(self, central: str) -> None:
        """``online``, ``offline`` or ``unknown`` (reported by the sync engine)."""
        self.central = central
        self._show_central()

    def set_waiting(self, count: int | None) -> None:
        """Submissions waiting to be sent (None: not known yet)."""
        self.waiting = count
        self._show_queue()

    def set_voice_available(self, available: bool) -> None:
        """No speech engine on this machine: say so on the button instead of pretending."""
        self.voice_available = available
        self.retranslate()

    def set_printer(self, ready: bool | None) -> None:
        """Printer ready (True), not ready (False) or unknown (None)."""
        self.printer = ready
        self._show_printer()

    def _show_central(self) -> None:
        dot = {"online": "●", "offline": "✕"}.get(self.central, "○")
        self.central_label.setText(f"{dot} " + self.state.tr(f"strip.central_{self.central}"))

    def _show_queue(self) -> None:
        if self.waiting is None:
            self.queue_label.setText(self.state.tr("strip.queue_unknown"))
        else:
            self.queue_label.setText(self.state.tr("strip.queue", count=self.waiting))

    def _show_printer(self) -> None:
        key = {True: "strip.printer_ok", False: "strip.printer_problem", None: "strip.printer_unknown"}[self.printer]
        self.printer_label.setText(self.state.tr(key))

    def controls(self) -> list[QPushButton]:
        """The citizen's buttons on the strip (for tests)."""
        return [self.lang_zh, self.lang_en, self.large, self.voice, self.staff]

    def labels(self) -> list[QLabel]:
        """The information labels on the strip (for tests)."""
        return [self.hall, self.clock, self.central_label, self.queue_label, self.printer_label]
