"""``kiosk run --agent`` and ``[terminal] mode = "agent"`` start the agent station; SIGTERM stops it."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.ui.test_run_process import _start, _wait_for_log


@pytest.mark.parametrize("how", ["flag", "config"])
def test_the_agent_station_starts_and_stops_on_sigterm(data_dir: Path, how: str) -> None:
    if how == "config":
        (data_dir / "kiosk.toml").write_text('[terminal]\nmode = "agent"\n', encoding="utf-8")
    proc = _start(data_dir, *(["--agent"] if how == "flag" else []))
    try:
        log = _wait_for_log(data_dir, "agent station running", proc)
        assert "kiosk running" not in log
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "agent station stopped" in (data_dir / "logs" / "kiosk.log").read_text(encoding="utf-8")
