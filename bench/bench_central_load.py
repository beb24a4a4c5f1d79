"""Load test: many terminals syncing at once against the central platform, on each database.

    .venv/bin/python bench/bench_central_load.py [--terminals 500] [--backlog 20]
        [--batch-size 100] [--backends sqlite,postgres] [--workers 1] [--time-limit 900]

For each backend (SQLite in the data folder; PostgreSQL in a throwaway cluster started for
the run, with its default durable settings: fsync on, synchronous commit) the script:

1. starts the real platform (``kiosk-central serve --workers N`` on 127.0.0.1: N uvicorn
   processes sharing the port; SQLite takes one writer at a time whatever N is, PostgreSQL
   takes writes from all of them);
2. enrols ``--terminals`` real terminal stores (``sync.store.Store``, one SQLite file each)
   over HTTP and queues ``--backlog`` valid residence-permit submissions on each with
   ``Store.enqueue`` (sealed answers plus three sealed attachments, the same bytes on every
   terminal, so each is uploaded once); this part is not timed;
3. releases every terminal at the same moment, each in its own thread running the real
   sync engine (``sync.engine.run_once``, what ``kiosk sync --once`` runs) until its outbox
   is empty; a failed cycle is retried after half a second, until ``--time-limit``;
4. checks on the platform (through its store) that every queued submission is there exactly
   once under the case number its terminal recorded: duplicates and lost must be 0.

Reported per backend: submissions per second over the whole drain (first request to last
answer), the latency of every HTTP request the terminals made (p50/p95/p99/max, and of the
batch pushes alone), requests that failed, and the exactly-once check. The bar to compare
with is ODK Central's published soak test: 50 submissions/s with 100% success.

The terminals and the platform share this machine's CPUs: latency includes the time a
request waits for the client threads' turn as well as the server's.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_enqueue import example  # noqa: E402
from central.database import open_store as open_central_store  # noqa: E402
from central.enrolment import issue_code  # noqa: E402
from kiosk.commands.enroll import enrol_terminal  # noqa: E402
from sync.client import Answer, CentralClient  # noqa: E402
from sync.engine import SyncOptions, run_once  # noqa: E402
from sync.store import Store, open_store  # noqa: E402
from tests.support.central_process import start_central_process, stop_central_process, use_database  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402

SERVICE_ID = "residence-permit"
SITE = "LD01"
ODK_BAR = 50.0  # submissions/s at 100% success (ODK Central's published soak test)
RETRY_PAUSE = 0.5


# --- the platform ---------------------------------------------------------------------------


@dataclass
class Platform:
    """A running platform process over one backend."""

    backend: str
    data_dir: Path
    url: str
    proc: subprocess.Popen[str]
    cluster: PostgresCluster | None

    def stop(self) -> None:
        stop_central_process(self.proc, timeout=30)
        if self.cluster is not None:
            self.cluster.stop()


def start_platform(root: Path, backend: str, workers: int) -> Platform:
    """``kiosk-central serve --port 0`` over SQLite or a fresh PostgreSQL cluster."""
    cluster = PostgresCluster.start(durable=True) if backend == "postgres" else None
    data_dir = use_database(root / backend / "central", cluster.create_database("central") if cluster else None)
    try:
        url, proc = start_central_process(data_dir, extra_args=("--no-access-log", "--workers", str(workers)),
                                          log_level="WARNING")
    except RuntimeError as exc:
        if cluster is not None:
            cluster.stop()
        raise SystemExit(f"central ({backend}) did not start: {exc}") from exc
    return Platform(backend, data_dir, url, proc, cluster)


# --- the terminals ----------------------------------------------------------------------------


def make_terminals(root: Path, central: Platform, count: int, backlog: int) -> list[Store]:
    """Enrol ``count`` terminal stores and queue ``backlog`` submissions on each."""
    store = open_central_store(central.data_dir)
    try:
        codes = [issue_code(store, SITE).code for _ in range(count)]
    finally:
        store.close()
    version, answers, files = example(2048)  # three 2 KiB attachments

    def one(index: int) -> Store:
        terminal = open_store(root / central.backend / f"terminal-{index:04d}" / "tongban.db")
        with CentralClient(central.url) as client:
            enrol_terminal(terminal, client, codes[index])
        for _ in range(backlog):
            terminal.enqueue(SERVICE_ID, version, answers, attachments=files)
        return terminal

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


# --- the drive ----------------------------------------------------------------------------------


@dataclass
class Samples:
    """Request timings and failures, shared by the terminal threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: list[float] = field(default_factory=list)
    batch_seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    first_start: float | None = None
    last_end: float = 0.0


class TimedClient(CentralClient):
    """The terminal's real client, timing each request it sends."""

    def __init__(self, samples: Samples, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._samples = samples

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        """Send as the client does; record the time to the answer, or the failure."""
        started = time.perf_counter()
        try:
            return super().request(method, path, **kwargs)
        except Exception as exc:
            with self._samples.lock:
                self._samples.failures.append(f"{method} {path.split('/')[2]}: {exc}")
            raise
        finally:
            ended = time.perf_counter()
            with self._samples.lock:
                self._samples.seconds.append(ended - started)
                if path.endswith("/submissions/batch"):
                    self._samples.batch_seconds.append(ended - started)
                if self._samples.first_start is None or started < self._samples.first_start:
                    self._samples.first_start = started
                self._samples.last_end = max(self._samples.last_end, ended)


def drive(terminals: Sequence[Store], batch_size: int, time_limit: float) -> tuple[Samples, int]:
    """Every terminal syncs at once until its outbox is empty; returns samples and cycles."""
    samples = Samples()
    options = SyncOptions(batch_size=batch_size, pull_status=False, sync_hall=False,
                          ignore_backoff=True)
    start = threading.Barrier(len(terminals) + 1)
    deadline = [0.0]
    cycles = [0]

    def terminal_thread(store: Store) -> None:
        enrolment = store.require_enrolment()
        with TimedClient(samples, enrolment.central_url, token=enrolment.token,
                         connect_timeout=30.0, read_timeout=120.0) as client:
            start.wait()
            while time.monotonic() < deadline[0]:
                report = run_once(store, client, options=options)
                with samples.lock:
                    cycles[0] += 1
                if report.pending == 0 and not report.errors:
                    return
                time.sleep(RETRY_PAUSE)

    threads = [threading.Thread(target=terminal_thread, args=(t,), daemon=True) for t in terminals]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + time_limit
    start.wait()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline[0] - time.monotonic()) + 180)
    return samples, cycles[0]


# --- the check ---------------------------------------------------------------------------------


@dataclass
class Check:
    """What the platform holds against what the terminals queued."""

    queued: int
    accepted_on_terminals: int
    on_platform: int
    duplicates: int
    lost: int
    case_mismatches: int


def check(central: Platform, terminals: Sequence[Store]) -> Check:
    """Count on the platform: every queued submission once, under the terminal's case number."""
    queued: dict[str, str | None] = {}
    accepted = 0
    for terminal in terminals:
        for entry in terminal.list_queue():
            queued[entry.submission_id] = entry.case_no
            accepted += entry.state == "accepted"
    store = open_central_store(central.data_dir)
    try:
        records = store.list_submissions()
    finally:
        store.close()
    ids = [r.submission_id for r in records]
    receipts = [r.receipt_no for r in records]
    by_id = {r.submission_id: r.case_no for r in records}
    return Check(
        queued=len(queued),
        accepted_on_terminals=accepted,
        on_platform=len(records),
        duplicates=(len(ids) - len(set(ids))) + (len(receipts) - len(set(receipts))),
        lost=sum(1 for sid in queued if sid not in by_id),
        case_mismatches=sum(1 for sid, case in queued.items() if sid in by_id and by_id[sid] != case),
    )


# --- the report ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


@dataclass
class Result:
    """One backend's figures."""

    backend: str
    terminals: int
    seconds: float
    samples: Samples
    cycles: int
    check: Check
    fill_seconds: float

    @property
    def rate(self) -> float:
        return self.check.on_platform / self.seconds if self.seconds else 0.0

    @property
    def success(self) -> float:
        c = self.check
        return 100.0 * c.accepted_on_terminals / c.queued if c.queued else 0.0


def run_backend(root: Path, backend: str, args: argparse.Namespace) -> Result:
    central = start_platform(root, backend, args.workers)
    try:
        t0 = time.perf_counter()
        terminals = make_terminals(root, central, args.terminals, args.backlog)
        fill_seconds = time.perf_counter() - t0
        print(f"[{backend}] {args.terminals} terminals enrolled, {args.terminals * args.backlog} "
              f"submissions queued in {fill_seconds:.0f} s; syncing all at once ...", flush=True)
        samples, cycles = drive(terminals, args.batch_size, args.time_limit)
        seconds = samples.last_end - (samples.first_start or samples.last_end)
        result = Result(backend, len(terminals), seconds, samples, cycles, check(central, terminals),
                        fill_seconds)
        for terminal in terminals:
            terminal.close()
        return result
    finally:
        central.stop()


def report(results: Sequence[Result], args: argparse.Namespace) -> str:
    lines = [
        f"# central platform load test ({platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()})",
        "",
        f"{args.terminals} terminals x {args.backlog} queued submissions, batch size {args.batch_size}, "
        f"{args.workers} uvicorn process(es); all terminals released at once",
        "",
        "| backend | submissions | seconds | submissions/s | vs ODK bar (50/s) | requests | failed "
        "| p50 ms | p95 ms | p99 ms | max ms | batch p50 ms | batch p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r.samples
        lines.append(
            f"| {r.backend} | {r.check.on_platform:,} | {r.seconds:.1f} | {r.rate:.1f} | "
            f"{r.rate / ODK_BAR:.1f}x | {len(s.seconds):,} | {len(s.failures)} | "
            f"{percentile(s.seconds, 50):.0f} | {percentile(s.seconds, 95):.0f} | "
            f"{percentile(s.seconds, 99):.0f} | {max(s.seconds, default=0) * 1000:.0f} | "
            f"{percentile(s.batch_seconds, 50):.0f} | {percentile(s.batch_seconds, 99):.0f} |"
        )
    lines += [
        "",
        "| backend | queued | accepted (terminals) | on platform | duplicates | lost "
        "| case number differs | success |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        c = r.check
        lines.append(
            f"| {r.backend} | {c.queued:,} | {c.accepted_on_terminals:,} | {c.on_platform:,} | "
            f"{c.duplicates} | {c.lost} | {c.case_mismatches} | {r.success:.1f}% |"
        )
    for r in results:
        if r.samples.failures:
            lines.append(f"\n{r.backend}: first failures: {r.samples.failures[:3]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=20, help="queued submissions per terminal")
    parser.add_argument("--batch-size", type=int, default=100, help="the sync engine's batch size")
    parser.add_argument("--backends", default="sqlite,postgres",
                        help="comma-separated: sqlite, postgres (default both)")
    parser.add_argument("--workers", type=int, default=1, help="kiosk-central serve --workers")
    parser.add_argument("--time-limit", type=float, default=900.0,
                        help="seconds the terminals keep trying (default 900)")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")

    results = []
    with tempfile.TemporaryDirectory(prefix="tongban-load-") as tmp:
        for backend in backends:
            results.append(run_backend(Path(tmp), backend, args))
    print(report(results, args))
    ok = all(r.check.duplicates == 0 and r.check.lost == 0 and r.check.case_mismatches == 0
             and r.check.accepted_on_terminals == r.check.queued for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
