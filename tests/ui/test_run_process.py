"""``kiosk run`` as systemd runs it: starts full screen, stops on SIGTERM with status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _start(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "kiosk", "--data-dir", str(data_dir), "run", *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_log(data_dir: Path, text: str, proc: subprocess.Popen[str], timeout: float = 30, count: int = 1) -> str:
    log_file = data_dir / "logs" / "kiosk.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.is_file() and (content := log_file.read_text(encoding="utf-8")).count(text) >= count:
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


def test_demo_mode_starts_the_central_platform_enrols_and_syncs(data_dir: Path) -> None:
    # a non-loopback [central] url: the demo platform takes a free port instead of 8700
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "kiosk.toml").write_text('[central]\nurl = "https://central.example.org"\nsync_interval_seconds = 5\n',
                                         encoding="utf-8")
    proc = _start(data_dir, "--demo", "--windowed")
    try:
        log = _wait_for_log(data_dir, "sync cycle:", proc, timeout=60)
        assert "demo terminal enrolled as DEMO-" in log and "kiosk running (windowed, demo)" in log
        assert "catalog updated" in log  # the signed catalog came from the demo platform
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    # the platform child stopped with the kiosk, and a second start reuses the enrolment
    ps = subprocess.run(["pgrep", "-f", f"{data_dir}/demo-central"], capture_output=True, text=True)
    assert ps.stdout.strip() == ""
    proc = _start(data_dir, "--demo", "--windowed")
    try:
        log = _wait_for_log(data_dir, "kiosk running (windowed, demo)", proc, timeout=60, count=2)
        assert log.count("demo terminal enrolled as") == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_killed_demo_kiosk_takes_its_demo_platform_with_it(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "kiosk.toml").write_text('[central]\nurl = "https://central.example.org"\n', encoding="utf-8")
    proc = _start(data_dir, "--demo", "--windowed")
    try:
        _wait_for_log(data_dir, "kiosk running (windowed, demo)", proc, timeout=60)
    finally:
        proc.kill()  # kill -9: no clean-up code runs in the kiosk
        proc.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        ps = subprocess.run(["pgrep", "-f", f"{data_dir}/demo-central"], capture_output=True, text=True)
        if ps.stdout.strip() == "":
            break
        time.sleep(0.2)
    assert ps.stdout.strip() == "", "the demo platform outlived the kiosk"
