"""The kiosk tells systemd it is ready, alive and stopping, over a real notify socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.systemd import Watchdog

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A bound AF_UNIX datagram socket standing in for systemd's notify socket."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)
    try:
        yield str(path), sock
    finally:
        sock.close()


def _receive(sock: socket.socket, until: float) -> list[str]:
    messages = []
    while time.monotonic() < until:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
    return messages


def test_messages_arrive_as_systemd_expects(notify_socket: tuple[str, socket.socket]) -> None:
    path, sock = notify_socket
    watchdog = Watchdog.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000"})
    assert watchdog.enabled and watchdog.ping_interval_ms == 1500
    assert watchdog.ready() and watchdog.ping() and watchdog.stopping()
    ready, ping, stopping = sock.recv(4096).decode(), sock.recv(4096).decode(), sock.recv(4096).decode()
    assert ready.splitlines() == ["READY=1", f"MAINPID={os.getpid()}"]
    assert (ping, stopping) == ("WATCHDOG=1", "STOPPING=1")
    watchdog.close()


def test_abstract_namespace_socket() -> None:
    name = f"tongban-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert Watchdog.from_env({"NOTIFY_SOCKET": "@" + name}).ping()
        assert sock.recv(64) == b"WATCHDOG=1"


def test_outside_systemd_nothing_is_sent_and_nothing_fails() -> None:
    watchdog = Watchdog.from_env({})
    assert not watchdog.enabled and watchdog.ping_interval_ms is None
    assert not watchdog.ready() and not watchdog.ping() and not watchdog.stopping()


def test_watchdog_meant_for_another_process_is_ignored(notify_socket: tuple[str, socket.socket]) -> None:
    path, _sock = notify_socket
    other = Watchdog.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert other.ping_interval_ms is None  # READY still goes to systemd, pings are not ours to send
    mine = Watchdog.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())})
    assert mine.ping_interval_ms == 500


def test_a_vanished_systemd_does_not_crash_the_kiosk(tmp_path: Path) -> None:
    watchdog = Watchdog.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert watchdog.enabled and not watchdog.ping()


def test_garbage_environment_is_ignored() -> None:
    assert not Watchdog.from_env({"NOTIFY_SOCKET": "relative/path"}).enabled
    assert Watchdog.from_env({"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "soon"}).ping_interval_ms is None


@pytest.mark.slow
def test_kiosk_process_notifies_ready_pings_and_stops_cleanly_on_sigterm(
    notify_socket: tuple[str, socket.socket], tmp_path: Path
) -> None:
    path, sock = notify_socket
    data = tmp_path / "terminal"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "NOTIFY_SOCKET": path,
        "WATCHDOG_USEC": "400000",  # ping every 200 ms
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "--data-dir", str(data), "run", "--windowed"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first: list[str] = []
        deadline = time.monotonic() + 90
        while not first and time.monotonic() < deadline and proc.poll() is None:
            first = _receive(sock, time.monotonic() + 0.5)
        assert first, f"no READY from the kiosk; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        assert first[0].startswith("READY=1\n")
        pings = [m for m in _receive(sock, time.monotonic() + 1.5) if m == "WATCHDOG=1"]
        assert len(pings) >= 4  # about 7 in 1.5 s at 200 ms
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        rest = _receive(sock, time.monotonic() + 0.6)
        assert "STOPPING=1" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
