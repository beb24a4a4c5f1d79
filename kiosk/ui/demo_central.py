"""Demo mode's central platform: the reference platform on localhost, and the terminal enrolled at it.

``kiosk run --demo`` starts ``kiosk-central serve`` as a child process with its data in
``<data folder>/demo-central`` (so submissions made in one demo are still there in the
next), on the port of the configured ``[central] url`` when it is a loopback address and
free, otherwise on the last demo's port or any free port. If the terminal is not enrolled at that address yet, a
one-time code is issued with ``kiosk-central enroll-code create`` and exchanged exactly as
a technician would. The platform is stopped (SIGTERM) when the kiosk stops.

The platform runs from the same Python installation as the kiosk, so demo mode needs a
source checkout or the virtualenv; a packaged kiosk talks to a real platform instead.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from kiosk.errors import SetupError
from sync.client import CentralClient
from sync.enrolment import Enrolment
from sync.store import database_path, open_store

log = logging.getLogger(__name__)

DEMO_SITE = "DEMO"
LISTENING_PREFIX = "listening on "
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class DemoCentral:
    """The reference central platform as a child process, for the demo."""

    def __init__(self, data_dir: Path, config: Any, *, start_timeout: float = 60.0) -> None:
        self.data_dir = Path(data_dir)
        self.config = config
        self.central_dir = self.data_dir / "demo-central"
        self.start_timeout = start_timeout
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    # --- process -------------------------------------------------------------------------

    def __enter__(self) -> DemoCentral:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "central.cli", "--data-dir", str(self.central_dir), *args]

    def start(self) -> str:
        """Start the platform; its URL. Raises SetupError when it does not come up."""
        self.central_dir.mkdir(parents=True, exist_ok=True)
        preferred = self._preferred_port()
        for port in ([preferred, 0] if preferred else [0]):
            try:
                self.url = self._serve(port)
                (self.central_dir / "demo-port").write_text(str(urlsplit(self.url).port), "utf-8")
                log.info("demo central platform at %s (data %s)", self.url, self.central_dir)
                return self.url
            except _PortBusy:
                log.info("port %d is taken; the demo platform takes a free port", port)
        raise SetupError("the demo central platform could not start on any port")  # pragma: no cover

    def _preferred_port(self) -> int:
        """The configured loopback port, else the port of the last demo (so the enrolment stays valid)."""
        parts = urlsplit(str(self.config.central.url))
        if parts.hostname in LOOPBACK and parts.port:
            return int(parts.port)
        last = self.central_dir / "demo-port"
        try:
            return int(last.read_text("utf-8").strip())
        except (OSError, ValueError):
            return 0

    def _serve(self, port: int) -> str:
        log_path = self.data_dir / "logs" / "demo-central.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                self._command("serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
                stdout=subprocess.PIPE, stderr=log_file, text=True, env=_child_env(),
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        first = _first_line(proc, self.start_timeout)
        if first.startswith(LISTENING_PREFIX):
            self._proc = proc
            return first[len(LISTENING_PREFIX):].strip()
        _terminate(proc)
        tail = log_path.read_text("utf-8", errors="replace")[-2000:]
        last_lines = tail.strip().splitlines()
        if last_lines and "cannot listen" in last_lines[-1]:
            raise _PortBusy(port)
        raise SetupError(
            f"the demo central platform did not start (see {log_path}). Fix: run "
            f"`kiosk-central --data-dir {self.central_dir} serve` to see why.\n{tail}"
        )

    def stop(self) -> None:
        """Stop the platform (SIGTERM, then SIGKILL after 15 s)."""
        if self._proc is not None:
            _terminate(self._proc)
            self._proc = None

    # --- enrolment -----------------------------------------------------------------------

    def enrol_terminal(self) -> Enrolment:
        """Enrol the terminal at the demo platform unless it already is; the enrolment in force."""
        from kiosk.commands.enroll import client_settings_from, enrol_terminal

        with open_store(database_path(self.data_dir)) as store:
            current = store.enrolment()
            if current is not None and current.central_url.rstrip("/") == self.url.rstrip("/") \
                    and self._knows_device(current.device_id):
                return current
            code = self._issue_code()
            with CentralClient(self.url, **client_settings_from(self.config)) as client:
                enrolment = enrol_terminal(store, client, code, device_name="demo kiosk")
            (self.central_dir / "demo-device").write_text(enrolment.device_id, "utf-8")
            log.info("demo terminal enrolled as %s-%s", enrolment.site_code, enrolment.device_code)
            return enrolment

    def _knows_device(self, device_id: str) -> bool:
        marker = self.central_dir / "demo-device"
        return marker.is_file() and marker.read_text("utf-8").strip() == device_id

    def _issue_code(self) -> str:
        done = subprocess.run(
            self._command("enroll-code", "create", "--site", DEMO_SITE, "--json"),
            capture_output=True, text=True, timeout=60, env=_child_env(),
        )
        if done.returncode != 0:
            raise SetupError(f"the demo platform issued no enrolment code: {done.stderr.strip()}")
        return str(json.loads(done.stdout)["code"])

    def new_appointment(self, service_id: str = "residence-permit", name: str = "张三") -> str:
        """A fresh appointment token for the next slot (the demo's "phone with an appointment QR code")."""
        from datetime import datetime, timedelta

        slot = (datetime.now().astimezone() + timedelta(minutes=10)).replace(second=0, microsecond=0)
        done = self.cli("appointments", "create", "--service", service_id, "--slot", slot.isoformat(),
                        "--name", name, "--json")
        if done.returncode != 0:
            raise SetupError(f"the demo platform made no appointment: {done.stderr.strip()}")
        return str(json.loads(done.stdout)["token"])

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a ``kiosk-central`` admin command against the demo platform's data."""
        return subprocess.run(self._command(*args), capture_output=True, text=True, timeout=60, env=_child_env())


class _PortBusy(Exception):
    """The preferred port is taken."""


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it when the kiosk dies, even by SIGKILL (Linux prctl)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KIOSK_CENTRAL_DATA_DIR", None)
    return env


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        lines.put(proc.stdout.readline())

    threading.Thread(target=read, daemon=True, name="demo-central-stdout").start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def _terminate(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    if proc.stdout is not None:
        proc.stdout.close()
