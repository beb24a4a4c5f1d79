"""Fixtures for the kiosk UI tests: a real enrolled store, the real catalog, the real window.

The window is driven like a citizen would: taps on buttons found by their object names,
typing into the focused field, a simulated ID card on a pty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from kiosk.background import pending_tasks, wait_for_background
from kiosk.catalog_source import open_catalog
from kiosk.config import load_config
from kiosk.ui.app import KioskWindow
from kiosk.ui.backend import KioskBackend
from kiosk.ui.devices import DemoIdCardReader
from kiosk.ui.session import Hall, KioskState
from sync.enrolment import Enrolment
from sync.sealing import generate_keypair
from sync.store import database_path, open_store

LANDSCAPE = (1920, 1080)


def enrol(data_dir: Path) -> bytes:
    """Enrol the terminal's store as ``kiosk enroll`` would; returns the central's private key."""
    private, public = generate_keypair()
    with open_store(database_path(data_dir)) as store:
        store.save_enrolment(
            Enrolment(
                device_id="0f6c2b1e-6d3a-4c1b-9a51-1f2e3d4c5b6a",
                device_code="K7M",
                site_code="SZ01",
                token="tb_secret_token_do_not_log",
                sealing_public_key=public,
                catalog_signing_key=bytes(range(32)),
                central_url="http://127.0.0.1:8700",
                enrolled_at=datetime(2026, 11, 23, 2, 30, tzinfo=UTC),
            )
        )
    return private


@dataclass
class Kiosk:
    """The running kiosk and helpers to drive it like a citizen."""

    window: KioskWindow
    state: KioskState
    data_dir: Path
    qtbot: object

    @property
    def screen(self) -> str:
        """The screen on show."""
        return self.window.current_name()

    def find(self, name: str, kind: type = QWidget) -> QWidget:
        """The visible widget called ``name`` (on screen or in a dialog)."""
        QApplication.processEvents()  # widgets added to a shown layout appear on the next turn
        found = [w for w in self.window.findChildren(kind, name) if w.isVisible()]
        assert found, f"no visible {kind.__name__} named {name!r} on screen {self.screen}"
        return found[-1]

    def has(self, name: str) -> bool:
        """Whether a widget called ``name`` is visible."""
        QApplication.processEvents()
        return any(w.isVisible() for w in self.window.findChildren(QWidget, name))

    def tap(self, name: str, within: QWidget | None = None) -> None:
        """Tap the button called ``name``."""
        if within is not None:
            QApplication.processEvents()
            found = [w for w in within.findChildren(QPushButton, name) if w.isVisible()]
            assert found, f"no visible button {name!r} in {within.objectName()}"
            widget = found[0]
        else:
            widget = self.find(name, QPushButton)
        assert widget.isEnabled(), f"button {name!r} is disabled"
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]

    def text(self, name: str) -> str:
        """The text of the visible label called ``name``."""
        widget = self.find(name, QLabel)
        return widget.text()  # type: ignore[attr-defined]

    def field(self, field_id: str) -> QWidget:
        """The card of a form field."""
        return self.find(f"field_{field_id}")

    def type_into(self, widget: QWidget, text: str) -> None:
        """Tap a text box and type: ASCII as key presses, Chinese as an input method commits it."""
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
        widget.setFocus()
        if text.isascii():
            self.qtbot.keyClicks(widget, text)  # type: ignore[attr-defined]
        else:  # what a pinyin keyboard (Qt Virtual Keyboard, a system IME) sends on commit
            event = QInputMethodEvent()
            event.setCommitString(text)
            QApplication.sendEvent(widget, event)

    def keypad(self, digits: str) -> None:
        """Press the screen's keypad keys, one per character."""
        for char in digits:
            name = "key_extra" if char in "X." else f"key_{char}"
            self.tap(name)

    def sign(self, field_id: str = "signature") -> None:
        """Draw a stroke on the signature pad."""
        pad = self.field(field_id).findChild(QWidget, "SignaturePad")
        bot = self.qtbot
        bot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(60, 60))  # type: ignore[attr-defined]
        for x in range(70, 400, 30):
            bot.mouseMove(pad, QPoint(x, 60 + (x % 60)))  # type: ignore[attr-defined]
        bot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(400, 90))  # type: ignore[attr-defined]

    def wait_screen(self, name: str, timeout: int = 10_000) -> None:
        """Wait until screen ``name`` is on show."""
        self.qtbot.waitUntil(lambda: self.screen == name, timeout=timeout)  # type: ignore[attr-defined]

    def settle(self) -> None:
        """Let background work and queued re-layouts finish."""
        self.qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=15_000)  # type: ignore[attr-defined]
        QApplication.processEvents()


@pytest.fixture
def make_kiosk(qtbot: object, data_dir: Path) -> Iterator[Callable[..., Kiosk]]:
    """``make_kiosk(size=(w, h), idle_timeout_ms=..., enrolled=True)``: a running kiosk window."""
    made: list[tuple[KioskWindow, KioskBackend, DemoIdCardReader]] = []

    def make(*, size: tuple[int, int] = LANDSCAPE, idle_timeout_ms: int = 600_000, idle_warning_ms: int = 20_000,
             enrolled: bool = True, language: str = "zh_CN") -> Kiosk:
        if enrolled:
            enrol(data_dir)
        config = load_config(data_dir / "kiosk.toml")
        backend = KioskBackend(data_dir, config)
        state = KioskState(
            catalog=open_catalog(data_dir, config),
            backend=backend,
            hall=Hall(config.hall.name_zh, config.hall.name_en),
            language=language,
            demo=True,
        )
        reader = DemoIdCardReader()
        window = KioskWindow(state, kiosk_mode=False, idle_timeout_ms=idle_timeout_ms,
                             idle_warning_ms=idle_warning_ms, id_reader=reader)
        qtbot.addWidget(window)  # type: ignore[attr-defined]
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)  # type: ignore[attr-defined]
        made.append((window, backend, reader))
        kiosk = Kiosk(window, state, data_dir, qtbot)
        kiosk.settle()
        return kiosk

    yield make
    for window, backend, reader in made:
        QApplication.instance().removeEventFilter(window.idle_watcher)
        window.idle_timer.stop()
        window.countdown_timer.stop()
        window.status_timer.stop()
        window.print_retry_timer.stop()
        wait_for_background()
        window.collector.stop()
        QApplication.processEvents()
        reader.stop()
        backend.close()
