"""The home (attract) screen: three big choices."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QVBoxLayout

from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, expanding, label


class HomeScreen(Screen):
    """办理业务 / 查询进度 / 预约签到, nothing else to read or decide."""

    name = "home"

    def build(self, layout: QVBoxLayout) -> None:
        """Greeting and the three tiles."""
        s = self.state
        layout.addSpacing(20)
        layout.addWidget(label(s.tr("home.welcome"), "hero", name="welcome"))
        layout.addWidget(label(s.tr("home.prompt"), "subtitle"))
        layout.addSpacing(20)
        grid = QGridLayout()
        grid.setSpacing(32)
        start = expanding(button(s.tr("home.start") + "\n" + s.tr("home.start_hint"),
                                 lambda: self.shell.go("catalog"), "tile", name="start"))
        status = expanding(button(s.tr("home.status") + "\n" + s.tr("home.status_hint"),
                                  lambda: self.shell.go("status"), "tile-secondary", name="status"))
        appointment = expanding(button(s.tr("home.appointment") + "\n" + s.tr("home.appointment_hint"),
                                       lambda: self.shell.go("appointment"), "tile-secondary",
                                       name="appointment"))
        if self.shell.width() >= 1500:
            grid.addWidget(start, 0, 0, 2, 1)
            grid.addWidget(status, 0, 1)
            grid.addWidget(appointment, 1, 1)
            grid.setColumnStretch(0, 3)
            grid.setColumnStretch(1, 2)
        else:
            grid.addWidget(start, 0, 0, 1, 2)
            grid.addWidget(status, 1, 0)
            grid.addWidget(appointment, 1, 1)
            grid.setRowStretch(0, 3)
            grid.setRowStretch(1, 2)
        layout.addLayout(grid, 1)
        layout.addWidget(label(s.tr("home.privacy"), "muted"))
