"""Help requests at the agent station, through the real central platform on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QTableWidget

from kiosk.background import pending_tasks, wait_for_background
from kiosk.catalog_source import open_catalog
from kiosk.config import load_config
from kiosk.ui.agent.backend import AgentBackend
from kiosk.ui.agent.window import AgentWindow
from kiosk.ui.session import Hall, KioskState
from sync.hall_sync import raise_help_request
from sync.staff import add_staff
from tests.hall.conftest import Terminal


def _visible(window: AgentWindow, kind: type, name: str) -> object:
    QApplication.processEvents()
    found = [w for w in window.findChildren(kind, name) if w.isVisible()]
    assert found, f"no visible {name}"
    return found[-1]


def test_open_help_requests_of_the_hall_are_listed_and_acknowledged(
    qtbot: object, make_terminal: Callable[..., Terminal]
) -> None:
    kiosk, desk = make_terminal(), make_terminal()
    with kiosk.client() as client:
        raised = raise_help_request(kiosk.store, client)
    assert raised.delivered
    add_staff(desk.store, "wang.li", "482913", "agent", display_name="王丽")
    config = load_config(desk.data_dir / "kiosk.toml")
    backend = AgentBackend(desk.data_dir, config)
    state = KioskState(catalog=open_catalog(desk.data_dir, config), backend=backend,
                       hall=Hall(config.hall.name_zh, config.hall.name_en), language="en")
    window = AgentWindow(state, backend)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.resize(1366, 768)
    window.show()
    try:
        _visible(window, QLineEdit, "staff_id").setText("wang.li")
        _visible(window, QLineEdit, "pin").setText("482913")
        qtbot.mouseClick(_visible(window, QPushButton, "sign_in"), Qt.MouseButton.LeftButton)  # type: ignore
        qtbot.waitUntil(lambda: window.current_page() == "submit", timeout=10_000)  # type: ignore[attr-defined]
        # fetched in the background on sign-in: the menu says how many are open
        qtbot.waitUntil(lambda: window.help_requests is not None, timeout=10_000)  # type: ignore[attr-defined]
        assert window.nav_buttons["help"].text() == "Help requests (1)"
        window.show_page("help")
        qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=10_000)  # type: ignore[attr-defined]
        table = _visible(window, QTableWidget, "help_table")
        assert table.rowCount() == 1
        assert table.item(0, 1).text() == kiosk.store.require_enrolment().device_code
        qtbot.mouseClick(_visible(window, QPushButton, "help_ack"), Qt.MouseButton.LeftButton)  # type: ignore
        qtbot.waitUntil(lambda: window.help_requests == [], timeout=10_000)  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=10_000)  # type: ignore[attr-defined]
        assert "You took the request" in _visible(window, QLabel, "message").text()
        assert _visible(window, QLabel, "help_none").isVisible()
        with kiosk.client() as client:
            assert client.open_help_requests() == []
        assert any(a.action == "help-acknowledged" and a.actor == "wang.li" for a in desk.store.audit_entries())
    finally:
        window.shutdown()
        wait_for_background()
        backend.close()
