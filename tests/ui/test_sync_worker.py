"""The kiosk's background sync worker against the real central platform: the strip's online/offline state."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.commands.enroll import enrol_terminal
from kiosk.config import load_config
from kiosk.ui.sync_worker import SyncWorker, central_state
from sync.client import CentralClient
from sync.engine import SyncOptions, SyncReport
from sync.store import database_path, open_store
from tests.support.central_process import central_cli, start_central_process, stop_central_process


def test_central_state_words() -> None:
    assert central_state(None, enrolled=False) == "unenrolled"
    assert central_state(SyncReport(stopped="network"), enrolled=True) == "offline"
    assert central_state(SyncReport(errors=["x"], catalog="failed"), enrolled=True) == "offline"
    assert central_state(SyncReport(catalog="unchanged"), enrolled=True) == "online"
    assert central_state(SyncReport(busy=True), enrolled=True) == "unknown"


def test_the_worker_reports_online_then_offline_when_the_platform_goes_away(qtbot, tmp_path: Path) -> None:
    data_dir = tmp_path / "terminal"
    central_dir = tmp_path / "central"
    url, proc = start_central_process(central_dir)
    try:
        code = json.loads(central_cli(central_dir, "enroll-code", "create", "--site", "SZ03", "--json").stdout)
        with open_store(database_path(data_dir)) as store, CentralClient(url) as client:
            enrol_terminal(store, client, code["code"])
        (data_dir / "kiosk.toml").write_text("[central]\nsync_interval_seconds = 5\ntimeout_seconds = 2\n")
        worker = SyncWorker(data_dir, load_config(data_dir / "kiosk.toml"), SyncOptions())
        states: list[str] = []
        worker.reported.connect(lambda _report, state: states.append(state))
        worker.start()
        qtbot.waitUntil(lambda: "online" in states, timeout=20_000)
    finally:
        stop_central_process(proc)
    try:
        worker.wake()
        qtbot.waitUntil(lambda: states[-1] == "offline", timeout=30_000)
    finally:
        worker.stop()
    assert worker.cycles >= 2
