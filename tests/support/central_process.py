"""Running the real central platform (``kiosk-central serve``) in a subprocess for tests.

    url, proc = start_central_process(tmp_path / "central")
    try:
        ...  # talk HTTP to url
    finally:
        stop_central_process(proc)

or, as a context manager, ``with running_central(tmp_path / "central") as url: ...``.
The server binds port 0 on 127.0.0.1 and the helper reads the real port from its one
stdout line ``listening on http://HOST:PORT``. Its log (stderr) goes to
``<data_dir>.serve.log`` beside the data folder, so a test can read it and the pipe never
fills up. Admin commands run with :func:`central_cli`.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from central.database import CONFIG_FILE

REPO = Path(__file__).resolve().parents[2]
LISTENING_PREFIX = "listening on "


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KIOSK_CENTRAL_DATA_DIR", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def use_database(data_dir: Path, url: str | None) -> Path:
    """Make ``data_dir`` (created if need be) name the platform's database: a PostgreSQL URL
    goes into its ``central.toml``; ``None`` leaves SQLite. Returns ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if url is not None:
        (data_dir / CONFIG_FILE).write_text(f'database = "{url}"\n', encoding="utf-8")
    return data_dir


def serve_log_path(data_dir: Path) -> Path:
    """Where :func:`start_central_process` writes the server's stderr."""
    return data_dir.parent / f"{data_dir.name}.serve.log"


def start_central_process(
    data_dir: Path,
    catalog_dir: Path | None = None,
    *,
    host: str = "127.0.0.1",
    extra_args: Sequence[str] = (),
    log_level: str | None = None,
    timeout: float = 60.0,
) -> tuple[str, subprocess.Popen[str]]:
    """Start ``kiosk-central serve --port 0``; return its base URL and the process.

    ``extra_args`` go after ``serve``; ``log_level`` is the platform's ``--log-level``.

    Raises:
        RuntimeError: the server exited or printed nothing within ``timeout`` seconds
            (the message holds the end of its log).
    """
    data_dir = Path(data_dir)
    cmd = [sys.executable, "-m", "central.cli", "--data-dir", str(data_dir),
           *(("--log-level", log_level) if log_level else ()),
           "serve", "--host", host, "--port", "0", *extra_args]
    if catalog_dir is not None:
        cmd += ["--catalog", str(catalog_dir)]
    log_path = serve_log_path(data_dir)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=log_file, text=True, cwd=REPO, env=_env()
        )
    lines: queue.Queue[str] = queue.Queue()

    def read_first_line() -> None:
        assert proc.stdout is not None
        lines.put(proc.stdout.readline())

    threading.Thread(target=read_first_line, daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        line = ""
    if not line.startswith(LISTENING_PREFIX):
        stop_central_process(proc)
        tail = log_path.read_text("utf-8", errors="replace")[-3000:]
        raise RuntimeError(
            f"kiosk-central serve did not start (first line {line!r}); log:\n{tail}"
        )
    return line[len(LISTENING_PREFIX):].strip(), proc


def stop_central_process(proc: subprocess.Popen[str], timeout: float = 15.0) -> int:
    """SIGTERM the server and wait; SIGKILL if it does not stop. Returns its exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    if proc.stdout is not None:
        proc.stdout.close()
    return proc.returncode


@contextmanager
def running_central(data_dir: Path, catalog_dir: Path | None = None) -> Iterator[str]:
    """The real platform serving on 127.0.0.1 for the ``with`` block; yields its URL."""
    url, proc = start_central_process(data_dir, catalog_dir)
    try:
        yield url
    finally:
        stop_central_process(proc)


def central_cli(
    data_dir: Path, *args: str, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``kiosk-central --data-dir DATA_DIR ARGS...`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "central.cli", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env=_env(), check=False,
    )


def central_json(data_dir: Path, *args: str) -> Any:
    """Run an admin command with ``--json`` and return its parsed output (must succeed)."""
    done = central_cli(data_dir, *args, "--json")
    if done.returncode != 0:
        raise RuntimeError(f"kiosk-central {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def create_enrolment_code(data_dir: Path, site: str = "SZ01") -> str:
    """A fresh one-time enrolment code for ``site`` (via the real CLI)."""
    return str(central_json(data_dir, "enroll-code", "create", "--site", site)["code"])
