"""Starting the agent station: ``kiosk run --agent`` or ``[terminal] mode = "agent"``.

A normal desktop window (staff use mouse and keyboard and may close it), the same store,
catalog, printer and sync engine as the citizen kiosk, and the staff pages of
:class:`kiosk.ui.agent.window.AgentWindow`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from kiosk.background import wait_for_background

log = logging.getLogger(__name__)


def run_agent_station(data_dir: Path, config: Any, *, demo: bool = False, argv: list[str] | None = None) -> int:
    """Run the agent station until its window is closed (or SIGTERM); the exit status."""
    import signal

    from kiosk.catalog_source import open_catalog
    from kiosk.ui.agent.backend import AgentBackend
    from kiosk.ui.agent.window import AgentWindow
    from kiosk.ui.devices import DemoIdCardReader
    from kiosk.ui.session import Hall, KioskState

    app = QApplication.instance() or QApplication(argv or ["kiosk"])
    app.setApplicationName("Tongban agent station")
    backend = AgentBackend(data_dir, config)
    state = KioskState(catalog=open_catalog(data_dir, config), backend=backend,
                       hall=Hall(config.hall.name_zh, config.hall.name_en), language=config.terminal.language,
                       demo=demo)
    reader = DemoIdCardReader() if demo else None
    window = AgentWindow(state, backend, idle_signout_ms=int(config.staff.idle_signout_minutes) * 60_000,
                         id_reader=reader)
    worker = _start_sync_worker(data_dir, config, window)

    def stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping the agent station", signum)
        app.quit()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    from PySide6.QtCore import QTimer

    ticker = QTimer(app)  # lets Python run its signal handlers while Qt waits
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
    screen = app.primaryScreen().availableGeometry() if app.primaryScreen() else None
    if screen is not None and (screen.width() < 1600 or screen.height() < 900):
        window.showMaximized()
    else:
        window.resize(1600, 900)
        window.show()
    log.info("agent station running%s", " (demo)" if demo else "")
    try:
        app.exec()
    finally:
        if window.account is not None:
            window.sign_out("closed")
        window.shutdown()
        worker.stop()
        wait_for_background()
        backend.close()
        if reader is not None:
            reader.stop()
    log.info("agent station stopped")
    return 0


def _start_sync_worker(data_dir: Path, config: Any, window: Any) -> Any:
    """The background sync engine, as at the kiosk (submissions made here are sent too)."""
    from forms import load_catalog
    from kiosk.commands.sync import catalog_root
    from kiosk.ui.sync_worker import SyncWorker
    from sync.engine import SyncOptions

    options = SyncOptions(catalog_root=catalog_root(data_dir), validate_catalog=load_catalog)
    worker = SyncWorker(data_dir, config, options, parent=window)
    window.sync_worker = worker
    worker.start()
    return worker
