"""Benchmark: drain a backlog of queued submissions to a local central platform.

    .venv/bin/python bench/bench_sync_drain.py [--count 10000] [--baseline-count 1000]
                                               [--batch-size 100]

Starts the real platform (``kiosk-central serve`` on 127.0.0.1), enrols two terminals, queues
``--count`` valid residence-permit submissions on one and ``--baseline-count`` on the other
(each with the same attachments, so they are uploaded once), then times:

* the sync engine draining the first terminal in batches of ``--batch-size``;
* the baseline: the same engine draining the second with batch size 1, i.e. one request
  per submission.

Both drains go over loopback HTTP to the same server in the same run. Reported: elapsed
time and submissions per second for each, and the ratio. The baseline drains fewer items
only to keep the run short; it is reported as a rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_enqueue import example  # noqa: E402
from kiosk.commands.enroll import enrol_terminal  # noqa: E402
from sync.client import CentralClient  # noqa: E402
from sync.engine import SyncOptions, run_once  # noqa: E402
from sync.store import Store, open_store  # noqa: E402
from sync.submission import Attachment  # noqa: E402

SERVICE_ID = "residence-permit"


def start_central(data_dir: Path) -> tuple[str, subprocess.Popen[str]]:
    """``kiosk-central serve --port 0``; returns its URL once it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "central.cli", "--data-dir", str(data_dir),
         "--log-level", "WARNING", "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"central did not start: {line!r}")
    return line.removeprefix("listening on ").strip(), proc


def new_code(data_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "central.cli", "--data-dir", str(data_dir),
         "enroll-code", "create", "--site", "BN01", "--json"],
        capture_output=True, text=True, check=True, cwd=REPO,
    )
    return str(json.loads(done.stdout)["code"])


def enrolled_store(folder: Path, url: str, central_dir: Path) -> Store:
    store = open_store(folder / "tongban.db")
    with CentralClient(url) as client:
        enrol_terminal(store, client, new_code(central_dir))
    return store


def fill(store: Store, count: int, version: str, answers: dict[str, Any],
         files: list[Attachment]) -> None:
    # One transaction per submission, as the kiosk does; not part of the timed drain.
    for _ in range(count):
        store.enqueue(SERVICE_ID, version, answers, attachments=files)


def drain(store: Store, batch_size: int) -> tuple[float, int, int]:
    """Sync until the outbox is empty; returns (seconds, pushed, cycles)."""
    enrolment = store.require_enrolment()
    options = SyncOptions(batch_size=batch_size, pull_status=False, ignore_backoff=True)
    pushed = cycles = 0
    started = time.perf_counter()
    with CentralClient(enrolment.central_url, token=enrolment.token) as client:
        while True:
            report = run_once(store, client, options=options)
            pushed += report.pushed
            cycles += 1
            if report.errors:
                raise SystemExit(f"sync failed: {report.errors[:3]}")
            if report.pending == 0:
                break
    return time.perf_counter() - started, pushed, cycles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--baseline-count", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        root = Path(tmp)
        central_dir = root / "central"
        url, proc = start_central(central_dir)
        try:
            version, answers, files = example(2048)  # three 2 KiB attachments
            batched = enrolled_store(root / "batched", url, central_dir)
            single = enrolled_store(root / "single", url, central_dir)
            t0 = time.perf_counter()
            fill(batched, args.count, version, answers, files)
            fill(single, args.baseline_count, version, answers, files)
            fill_seconds = time.perf_counter() - t0

            base_s, base_n, _ = drain(single, 1)
            batch_s, batch_n, cycles = drain(batched, args.batch_size)
            assert base_n == args.baseline_count and batch_n == args.count
            assert batched.counts()["accepted"] == args.count
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    base_rate = base_n / base_s
    batch_rate = batch_n / batch_s
    print(f"# sync drain benchmark ({platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.system()})")
    print(f"queued {args.count + args.baseline_count} submissions in {fill_seconds:.1f} s "
          "(not timed below)")
    print(f"batched  (batch {args.batch_size:>3}): {batch_n:>6} in {batch_s:7.2f} s = "
          f"{batch_rate:8.1f} submissions/s ({cycles} cycle(s))")
    print(f"baseline (batch   1): {base_n:>6} in {base_s:7.2f} s = {base_rate:8.1f} "
          "submissions/s")
    print(f"ratio: {batch_rate / base_rate:.1f}x faster than one request per submission")
    return 0


if __name__ == "__main__":
    sys.exit(main())
