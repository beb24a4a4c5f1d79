"""Running the ``kiosk`` command in a subprocess, as a technician would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``kiosk`` in a subprocess exactly as a technician would, capturing its output."""
    cmd = [sys.executable, "-m", "kiosk.cli"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=REPO, check=False,
        input=input_text if input_text is not None else "",
    )
