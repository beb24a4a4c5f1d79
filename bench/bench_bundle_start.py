"""Start-up time of the kiosk: bundle (pruned / unpruned) and source, cold and warm.

    sudo .venv/bin/python bench/bench_bundle_start.py dist/tongban [/tmp/tb-noprune/dist/tongban]

For each target, the median of ``--runs`` runs of: ``kiosk --version`` (process start,
imports of the CLI) and ``kiosk run --windowed`` offscreen until it sends systemd's
``READY=1`` (the home screen is shown and the event loop runs; kiosk/systemd.py), over a
real notify socket. "cold" drops the page cache before each run (needs root: writes
/proc/sys/vm/drop_caches), which is what a kiosk sees after a power cut; "warm" is a
restart after a crash. The source tree (``python -m kiosk.cli`` from .venv) is the baseline.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def drop_caches() -> bool:
    """Empty the page cache (root only); whether it worked."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def time_version(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([*cmd, "--version"], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def time_ready(cmd: list[str], env: dict[str, str], work: Path) -> float:
    path = work / f"notify-{time.monotonic_ns()}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(120)
        data = work / f"data-{time.monotonic_ns()}"
        start = time.perf_counter()
        proc = subprocess.Popen([*cmd, "--data-dir", str(data), "run", "--windowed"],
                                env={**env, "NOTIFY_SOCKET": str(path)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not sock.recv(4096).startswith(b"READY=1"):
                pass
            elapsed = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundles", nargs="+", type=Path, help="bundle folders (holding the kiosk executable)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("KIOSK_DATA_DIR", None)
    repo = Path(__file__).resolve().parents[1]
    targets = [(str(b), [str(b.resolve() / "kiosk")]) for b in args.bundles]
    targets.append(("source (.venv)", [str(repo / ".venv" / "bin" / "python"), "-m", "kiosk.cli"]))
    can_drop = drop_caches()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, cmd in targets:
            row = {"target": name}
            for mode in (("cold", "warm") if can_drop else ("warm",)):
                versions, readies = [], []
                for _ in range(args.runs):
                    if mode == "cold":
                        drop_caches()
                    versions.append(time_version(cmd, env))
                    if mode == "cold":
                        drop_caches()
                    readies.append(time_ready(cmd, env, work))
                row[f"{mode} --version"] = statistics.median(versions)
                row[f"{mode} READY"] = statistics.median(readies)
            rows.append(row)
    keys = [k for k in rows[0] if k != "target"]
    print("| target | " + " | ".join(f"{k} (s)" for k in keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for row in rows:
        print(f"| {row['target']} | " + " | ".join(f"{row[k]:.2f}" for k in keys) + " |")
    if not can_drop:
        print("(not root: cold runs skipped)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
