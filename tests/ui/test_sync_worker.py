"""The kiosk's background sync worker against the real central platform: the strip's online/offline state."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from catalog import DEFAULT_CATALOG_DIR
from forms import load_catalog
from kiosk.commands.enroll import enrol_terminal
from kiosk.config import load_config
from kiosk.ui.sync_worker import SyncWorker, central_state
from sync.client import CentralClient
from sync.engine import SyncOptions, SyncReport
from sync.store import database_path, open_store
from tests.support.answers import valid_answers
from tests.support.central_process import central_cli, start_central_process, stop_central_process
from tests.support.smalldisk import SmallDiskUnavailable, fill_up, free_up, small_disk


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


def test_a_cycle_failing_on_a_full_disk_does_not_stop_the_worker_it_drains_once_space_is_freed(
    qtbot, tmp_path: Path
) -> None:
    """On a real 4 MB tmpfs filled to the last byte, a cycle cannot claim (SQLITE_FULL).

    The worker used to end its thread on such an error, so nothing was sent again until the
    kiosk restarted; it must log it and try again at the next interval.
    """
    try:
        disk_cm = small_disk(tmp_path / "disk", size_mb=4)
        disk = disk_cm.__enter__()
    except SmallDiskUnavailable as exc:
        pytest.skip(str(exc))
    central_dir = tmp_path / "central"
    url, proc = start_central_process(central_dir)
    worker: SyncWorker | None = None
    try:
        data_dir = disk / "terminal"
        code = json.loads(central_cli(central_dir, "enroll-code", "create", "--site", "SZ03", "--json").stdout)
        catalog = load_catalog(DEFAULT_CATALOG_DIR)
        with open_store(database_path(data_dir), min_free_mb=0) as store, CentralClient(url) as client:
            enrol_terminal(store, client, code["code"])
            rng = random.Random(3)
            for _ in range(3):
                answers, files = valid_answers(catalog, "residence-permit", rng)
                store.enqueue("residence-permit", catalog.get("residence-permit").version, answers,
                              attachments=files)
        (data_dir / "kiosk.toml").write_text("[central]\nsync_interval_seconds = 5\ntimeout_seconds = 2\n")
        config = load_config(data_dir / "kiosk.toml")
        filler = fill_up(disk, leave_bytes=0)
        worker = SyncWorker(data_dir, config, SyncOptions(ignore_backoff=True))
        states: list[str] = []
        worker.reported.connect(lambda _report, state: states.append(state))
        worker.start()
        qtbot.waitUntil(lambda: states.count("unknown") >= 1, timeout=20_000)  # the cycle failed
        worker.wake()
        qtbot.waitUntil(lambda: states.count("unknown") >= 2, timeout=20_000)  # and the next ran
        assert "online" not in states  # the store cannot even open on the full disk
        free_up(filler)
        worker.wake()
        qtbot.waitUntil(lambda: bool(states) and states[-1] == "online", timeout=20_000)
        with open_store(database_path(data_dir), min_free_mb=0) as store:
            assert store.counts()["accepted"] == 3
            assert store.integrity_check() == ["ok"]
    finally:
        if worker is not None:
            worker.stop()
        stop_central_process(proc)
        disk_cm.__exit__(None, None, None)
