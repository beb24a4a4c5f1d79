"""Run a process and SIGKILL it at a chosen moment (crash tests and bench/crash_consistency.py).

The moment is counted from a line the process prints (``READY``, ``PHASE catalog``...), so a
slow start on a loaded machine does not eat the kill window, or from the start.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]



def run_and_kill(cmd: list[str], trigger: str | None, delay: float, timeout: float = 60.0
                 ) -> tuple[list[str], bool, int | None]:
    """Start ``cmd``; ``delay`` s after it prints the line ``trigger``, SIGKILL it unless it ended.

    ``trigger=None`` counts the delay from the start. Returns (stdout lines, killed, exit
    status); stderr is discarded.
    """
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    killed = False
    deadline = time.monotonic() + timeout
    try:
        if trigger is None:
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                killed = True
        while trigger is not None:  # wait for the trigger line
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if line == trigger:
                try:
                    proc.wait(timeout=delay)  # ended by itself before its kill
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    killed = True
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            break
        if line is not None:
            seen.append(line)
    return seen, killed, proc.returncode
