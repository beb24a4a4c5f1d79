"""``kiosk run`` as systemd runs it: starts full screen, stops on SIGTERM with status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Runs the real CLI; adds `run` to its command list for as long as kiosk/cli.py does not list it yet.
LAUNCHER = (
    "import sys, kiosk.cli as cli\n"
    "if 'run' not in cli.COMMAND_MODULES: cli.COMMAND_MODULES = (*cli.COMMAND_MODULES, 'run')\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)


def _start(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", LAUNCHER, "--data-dir", str(data_dir), "run", *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_log(data_dir: Path, text: str, proc: subprocess.Popen[str], timeout: float = 30) -> str:
    log_file = data_dir / "logs" / "kiosk.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.is_file() and text in (content := log_file.read_text(encoding="utf-8")):
            return content
        if proc.poll() is not None:
            raise AssertionError(f"kiosk exited early ({proc.returncode}): {proc.stderr.read()}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"no {text!r} in the log within {timeout}s")


def test_sigterm_stops_the_full_screen_kiosk_with_status_0(data_dir: Path) -> None:
    proc = _start(data_dir)
    try:
        _wait_for_log(data_dir, "kiosk running (full screen)", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "kiosk stopped" in (data_dir / "logs" / "kiosk.log").read_text(encoding="utf-8")
