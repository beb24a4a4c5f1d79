"""Fixtures for the agent station: a real enrolled store with staff accounts, the real window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QWidget

from kiosk.background import pending_tasks, wait_for_background
from kiosk.catalog_source import open_catalog
from kiosk.config import load_config
from kiosk.ui.agent.backend import AgentBackend
from kiosk.ui.agent.window import AgentWindow
from kiosk.ui.devices import DemoIdCardReader
from kiosk.ui.session import Hall, KioskState
from sync.staff import add_staff
from sync.store import database_path, open_store
from tests.hall.conftest import bundled_catalog, central, make_terminal  # noqa: F401 (the real platform's fixtures)
from tests.ui.conftest import enrol

AGENT_PIN = "482913"
SUPERVISOR_PIN = "730561"


@dataclass
class Station:
    """The running agent station and helpers to drive it like staff do."""

    window: AgentWindow
    state: KioskState
    data_dir: Path
    qtbot: object
    export_folder: list[str] = field(default_factory=list)

    @property
    def page(self) -> str:
        """The page on show."""
        return self.window.current_page()

    def find(self, name: str, kind: type = QWidget) -> QWidget:
        """The visible widget called ``name``."""
        QApplication.processEvents()
        found = [w for w in self.window.findChildren(kind, name) if w.isVisible()]
        assert found, f"no visible {kind.__name__} named {name!r} on page {self.page}"
        return found[-1]

    def has(self, name: str) -> bool:
        """Whether a widget called ``name`` is visible."""
        QApplication.processEvents()
        return any(w.isVisible() for w in self.window.findChildren(QWidget, name))

    def click(self, name: str) -> None:
        """Click the button called ``name`` (it must be enabled)."""
        widget = self.find(name, QPushButton)
        assert widget.isEnabled(), f"button {name!r} is disabled"
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]

    def text(self, name: str) -> str:
        """The text of the visible label called ``name``."""
        return self.find(name, QLabel).text()  # type: ignore[attr-defined]

    def type(self, name: str, text: str) -> None:
        """Replace the text of the line edit called ``name`` by typing."""
        edit = self.find(name, QLineEdit)
        edit.clear()  # type: ignore[attr-defined]
        edit.setFocus()
        if text.isascii():
            self.qtbot.keyClicks(edit, text)  # type: ignore[attr-defined]
        else:  # what an input method commits
            edit.insert(text)  # type: ignore[attr-defined]

    def settle(self) -> None:
        """Let background work and re-layouts finish."""
        self.qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=20_000)  # type: ignore[attr-defined]
        QApplication.processEvents()

    def sign_in(self, username: str, pin: str) -> None:
        """Type the staff id and PIN and press Enter in the PIN box."""
        self.type("staff_id", username)
        self.type("pin", pin)
        self.qtbot.keyClick(self.find("pin", QLineEdit), Qt.Key.Key_Return)  # type: ignore[attr-defined]
        self.settle()


@pytest.fixture
def make_station(qtbot: object, data_dir: Path) -> Iterator[Callable[..., Station]]:
    """``make_station(language=..., idle_signout_ms=...)``: an enrolled terminal with an agent
    (``wang.li``) and a supervisor (``zhao.min``), and its agent station window."""
    made: list[tuple[AgentWindow, AgentBackend, DemoIdCardReader]] = []

    def make(*, language: str = "zh_CN", idle_signout_ms: int = 600_000,
             size: tuple[int, int] = (1920, 1080)) -> Station:
        enrol(data_dir)
        with open_store(database_path(data_dir)) as store:
            add_staff(store, "wang.li", AGENT_PIN, "agent", display_name="王丽")
            add_staff(store, "zhao.min", SUPERVISOR_PIN, "supervisor", display_name="赵敏")
        config = load_config(data_dir / "kiosk.toml")
        backend = AgentBackend(data_dir, config)
        state = KioskState(catalog=open_catalog(data_dir, config), backend=backend,
                           hall=Hall(config.hall.name_zh, config.hall.name_en), language=language, demo=True)
        reader = DemoIdCardReader()
        folder: list[str] = []
        window = AgentWindow(state, backend, idle_signout_ms=idle_signout_ms, id_reader=reader,
                             choose_folder=lambda _parent, _title: folder[0] if folder else "")
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)  # type: ignore[attr-defined]
        made.append((window, backend, reader))
        station = Station(window, state, data_dir, qtbot, folder)
        station.settle()
        return station

    yield make
    for window, backend, reader in made:
        window.shutdown()
        wait_for_background()
        QApplication.processEvents()
        reader.stop()
        backend.close()
