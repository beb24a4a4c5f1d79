"""Sync fault matrix: every fault between terminal and platform, and nothing lost or duplicated.

    .venv/bin/python bench/fault_matrix.py [--items 40] [--seed 1] [--json]

Starts the real central platform (``kiosk-central serve`` on 127.0.0.1) behind the
fault-injecting proxy (:mod:`tests.support.faultproxy`). For each fault a fresh terminal
(a real SQLite store in a temporary folder, enrolled through the proxy) queues
``--items`` valid ``residence-permit`` submissions (each with its own real attachments and
a unique marker in its ``employer`` answer), then the sync engine (``sync.engine.run_once``,
the code of ``kiosk sync``) works through the fault:

* every proxy fault mode alone (``reset_before``, ``reset_after``, ``http_500``,
  ``http_503``, ``slow`` with a read timeout shorter than the delay, ``truncate``,
  ``truncate_body``, ``flip_byte``) on every request for ``--fault-cycles`` cycles, then
  the fault is lifted and the terminal drains;
* a mixed random mode (every fault mode, 30% of requests, seeded) until it drains;
* the central platform killed with SIGKILL and started again on the same data,
  ``--restarts`` times, at random moments while a drain in batches of 20 is running;
* disk full on the terminal: its data folder on a 4 MB tmpfs filled up until the store
  refuses new submissions (the reserve, ``[store] min_free_disk_mb``, here 1 MB), then
  synced on the nearly full disk, then filled to the last byte (the reserve off) and
  synced again, then space is freed and it drains.

Then it counts on the platform's own database what it holds for that terminal. Items
sent = submissions the terminal committed; lost = committed but not on the platform;
duplicates = the same submission (id or marker) stored more than once. The baseline in
the same run is the drain with no fault at all. Prints a markdown table (``--json``: the
figures as JSON); exits 1 if anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.crash_consistency import central_submissions  # noqa: E402
from catalog import DEFAULT_CATALOG_DIR  # noqa: E402
from forms import Catalog, load_catalog  # noqa: E402
from kiosk.commands.enroll import enrol_terminal  # noqa: E402
from sync.client import CentralClient  # noqa: E402
from sync.engine import SyncOptions, SyncReport, run_once  # noqa: E402
from sync.store import StorageFull, Store, StoreError, database_path, open_store  # noqa: E402
from tests.support.answers import valid_answers  # noqa: E402
from tests.support.central_process import (  # noqa: E402
    create_enrolment_code,
    start_central_process,
    stop_central_process,
)
from tests.support.faultproxy import FAULT_MODES, FaultProxy, Mode  # noqa: E402
from tests.support.smalldisk import (  # noqa: E402
    SmallDiskUnavailable,
    fill_up,
    free_up,
    small_disk,
)

SERVICE_ID = "residence-permit"
MARKER_FIELD = "employer"


@dataclass
class Row:
    """One line of the matrix."""

    fault: str
    sent: int = 0
    on_central: int = 0
    duplicates: int = 0
    lost: int = 0
    faulted_requests: int = 0
    cycles: int = 0
    refused: int = 0
    seconds: float = 0.0
    note: str = ""
    errors: list[str] = field(default_factory=list)


class Platform:
    """The central platform process behind the proxy; can be killed and started again."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.url, self.proc = start_central_process(data_dir)
        self.proxy = FaultProxy(self.url, retry_after="1", slow_seconds=1.5,
                                max_lifetime=6 * 3600).start()

    def kill_and_restart(self) -> None:
        """SIGKILL the server (mid-request, no clean shutdown), then start it again."""
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.url, self.proc = start_central_process(self.data_dir)
        self.proxy.set_upstream(self.url)

    def stop(self) -> None:
        self.proxy.stop()
        stop_central_process(self.proc)


class Terminal:
    """A terminal store enrolled through the proxy, queueing marked submissions."""

    def __init__(self, folder: Path, platform_: Platform, catalog: Catalog, tag: str,
                 rng: random.Random, *, min_free_mb: float = 0) -> None:
        self.store: Store = open_store(database_path(folder), min_free_mb=min_free_mb)
        with CentralClient(platform_.proxy.url) as client:
            enrol_terminal(self.store, client, create_enrolment_code(platform_.data_dir))
        self.platform = platform_
        self.catalog = catalog
        self.tag = tag
        self.rng = rng
        self.count = 0

    def submit(self) -> None:
        answers, files = valid_answers(self.catalog, SERVICE_ID, self.rng)
        answers[MARKER_FIELD] = f"{self.tag}-{self.count}"
        self.count += 1
        self.store.enqueue(SERVICE_ID, self.catalog.get(SERVICE_ID).version, answers,
                           attachments=files)

    def sync(self, *, batch_size: int = 5, read_timeout: float = 5.0) -> SyncReport:
        enrolment = self.store.require_enrolment()
        with CentralClient(self.platform.proxy.url, token=enrolment.token,
                           read_timeout=read_timeout, connect_timeout=2.0) as client:
            return run_once(self.store, client, options=SyncOptions(
                batch_size=batch_size, ignore_backoff=True, pull_status=False))

    def drain(self, row: Row, *, max_cycles: int = 60, **kwargs: Any) -> SyncReport:
        report = SyncReport()
        for _ in range(max_cycles):
            report = self.sync(**kwargs)
            row.cycles += 1
            if report.pending == 0:
                break
        return report

    def count_into(self, row: Row) -> None:
        """Compare the terminal's queue with what the platform holds for it."""
        local = {e.submission_id for e in self.store.list_queue()}
        held = central_submissions(self.platform.data_dir,
                                   self.store.require_enrolment().device_id)
        ids = Counter(h[0] for h in held)
        markers = Counter(h[2].get(MARKER_FIELD) for h in held)
        row.sent = len(local)
        row.on_central = len(ids)
        row.duplicates = sum(n - 1 for n in ids.values() if n > 1) + sum(
            n - 1 for n in markers.values() if n > 1)
        row.lost = len(local - set(ids))
        if self.store.integrity_check() != ["ok"]:
            row.errors.append("integrity_check failed")

    def close(self) -> None:
        self.store.close()


def _faulted(proxy: FaultProxy, since: int) -> int:
    return sum(1 for e in proxy.events[since:] if e.mode is not Mode.PASS)


def run_mode(root: Path, plat: Platform, catalog: Catalog, mode: Mode | None, items: int,
             fault_cycles: int, rng: random.Random) -> Row:
    """One proxy fault mode alone (``None``: no fault, the baseline)."""
    row = Row(mode.value if mode else "none (baseline)")
    term = Terminal(root / row.fault.split()[0], plat, catalog, row.fault, rng)
    try:
        for _ in range(items):
            term.submit()
        started = time.monotonic()
        events = len(plat.proxy.events)
        if mode is not None:
            plat.proxy.set_mode(mode, path_prefix="/v1/")
            timeout = 0.5 if mode is Mode.SLOW else 5.0  # "slow" then loses the answer
            for _ in range(fault_cycles):
                report = term.sync(read_timeout=timeout)
                row.cycles += 1
                if report.pending == 0:
                    row.note = "drained through the fault"
                    break
            plat.proxy.set_mode(Mode.PASS)
        row.faulted_requests = _faulted(plat.proxy, events)
        term.drain(row)
        row.seconds = time.monotonic() - started
        term.count_into(row)
    finally:
        plat.proxy.set_mode(Mode.PASS)
        term.close()
    return row


def run_mixed(root: Path, plat: Platform, catalog: Catalog, items: int, seed: int,
              rng: random.Random) -> Row:
    """Every fault mode at random on 30% of requests, until the terminal drains."""
    row = Row("mixed (all modes, 30% of requests)")
    term = Terminal(root / "mixed", plat, catalog, "mixed", rng)
    try:
        for _ in range(items):
            term.submit()
        started = time.monotonic()
        events = len(plat.proxy.events)
        plat.proxy.set_random(list(FAULT_MODES), fault_rate=0.3, seed=seed, path_prefix="/v1/")
        report = term.drain(row, max_cycles=400, read_timeout=1.0)
        row.note = "drained under the faults" if report.pending == 0 else "lifted, then drained"
        plat.proxy.set_mode(Mode.PASS)
        row.faulted_requests = _faulted(plat.proxy, events)
        term.drain(row)
        row.seconds = time.monotonic() - started
        term.count_into(row)
    finally:
        plat.proxy.set_mode(Mode.PASS)
        term.close()
    return row


def run_restarts(root: Path, plat: Platform, catalog: Catalog, items: int, restarts: int,
                 rng: random.Random) -> Row:
    """SIGKILL and restart the platform at random moments of a running drain."""
    row = Row(f"central killed (SIGKILL) and restarted x{restarts} mid-drain")
    term = Terminal(root / "restart", plat, catalog, "restart", rng)
    try:
        for _ in range(items):
            term.submit()
        started = time.monotonic()
        done = threading.Event()
        failures: list[BaseException] = []

        def drain() -> None:
            # Its own connection to the database, like the kiosk's sync worker thread.
            store = open_store(term.store.path, min_free_mb=0)
            try:
                enrolment = store.require_enrolment()
                while not done.is_set():
                    with CentralClient(plat.proxy.url, token=enrolment.token,
                                       read_timeout=5.0, connect_timeout=2.0) as client:
                        report = run_once(store, client, options=SyncOptions(
                            batch_size=20, ignore_backoff=True, pull_status=False))
                    row.cycles += 1
                    if report.errors:
                        time.sleep(0.2)  # the platform is down: try again shortly
            except BaseException as exc:  # reported in the row, never swallowed
                failures.append(exc)
            finally:
                store.close()

        worker = threading.Thread(target=drain, name="drain")
        worker.start()
        for _ in range(restarts):
            time.sleep(rng.uniform(0.1, 0.8))
            plat.kill_and_restart()
        while term.store.counts()["pending"] + term.store.counts()["sending"] and (
                time.monotonic() - started < 300):
            time.sleep(0.2)
        done.set()
        worker.join(timeout=60)
        row.errors += [repr(f) for f in failures]
        row.seconds = time.monotonic() - started
        row.note = f"{row.cycles} cycles while it went down {restarts} times"
        term.count_into(row)
    finally:
        term.close()
    return row


def run_disk_full(root: Path, plat: Platform, catalog: Catalog, items: int,
                  rng: random.Random) -> Row:
    """The terminal's data folder on a 4 MB tmpfs that fills up."""
    row = Row("disk full on the terminal (4 MB tmpfs)")
    try:
        with small_disk(root / "smalldisk", size_mb=4) as disk:
            term = Terminal(disk / "data", plat, catalog, "disk", rng, min_free_mb=1)
            try:
                for _ in range(items // 2):
                    term.submit()
                started = time.monotonic()
                # 1. Nearly full: submissions fit until the 1 MB reserve, then are refused.
                filler = fill_up(disk, leave_bytes=1_300_000, name="filler-1.bin")
                for _ in range(items):
                    try:
                        term.submit()
                    except StorageFull:
                        row.refused += 1
                # 2. Full to the last byte (the technician set the reserve to 0 and restarted
                # the kiosk), then a sync cycle: its bookkeeping cannot be written.
                path = term.store.path
                term.store.close()
                term.store = open_store(path, min_free_mb=0)
                filler2 = fill_up(disk, leave_bytes=0, name="filler-2.bin")
                full: list[str] = []
                try:
                    report = term.sync()
                    full.append(f"sync on the full disk: {report.pushed} pushed, "
                                f"{len(report.errors)} errors")
                except StoreError as exc:
                    full.append(f"sync on the full disk stopped: {type(exc).__name__}")
                row.cycles += 1
                integrity_full = term.store.integrity_check()
                # 3. Back to nearly full (the last filler deleted): drains there.
                free_up(filler2)
                near_full = term.drain(row)
                free_up(filler)
                term.drain(row)
                row.seconds = time.monotonic() - started
                row.note = (f"{row.refused} submissions refused (StorageFull, reserve 1 MB); "
                            f"{'; '.join(full)}; integrity on the full disk: {integrity_full}; "
                            f"drained on the nearly full disk: {near_full.pending == 0}")
                term.count_into(row)
            finally:
                term.close()
    except SmallDiskUnavailable as exc:
        row.note = f"not run: {exc}"
    return row


def report(rows: list[Row], args: argparse.Namespace, seconds: float) -> str:
    """The markdown table."""
    out = [
        f"# Sync fault matrix ({args.items} submissions per fault, seed {args.seed})",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.platform()}, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; "
        f"{seconds:.0f} s in all.",
        "",
        "| fault | items sent | items on central | duplicates | lost | faulted requests "
        "| sync cycles | seconds | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        note = r.note + (f"; errors: {'; '.join(r.errors)[:200]}" if r.errors else "")
        out.append(f"| {r.fault} | {r.sent} | {r.on_central} | {r.duplicates} | {r.lost} | "
                   f"{r.faulted_requests} | {r.cycles} | {r.seconds:.1f} | {note} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-cycles", type=int, default=3,
                        help="sync cycles through each single fault before it is lifted")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    catalog = load_catalog(DEFAULT_CATALOG_DIR)
    started = time.monotonic()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tongban-faults-") as tmp:
        root = Path(tmp)
        plat = Platform(root / "central")
        try:
            rows.append(run_mode(root, plat, catalog, None, args.items, 0, rng))
            for mode in FAULT_MODES:
                rows.append(run_mode(root, plat, catalog, mode, args.items,
                                     args.fault_cycles, rng))
            rows.append(run_mixed(root, plat, catalog, args.items, args.seed, rng))
            rows.append(run_restarts(root, plat, catalog, args.items * 5, args.restarts, rng))
            rows.append(run_disk_full(root, plat, catalog, args.items, rng))
        finally:
            plat.stop()
    seconds = time.monotonic() - started
    bad = any(r.lost or r.duplicates or r.errors or r.on_central != r.sent for r in rows
              if not r.note.startswith("not run"))
    if args.json:
        print(json.dumps({"rows": [asdict(r) for r in rows], "failed": bad}, indent=2))
    else:
        print(report(rows, args, seconds))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
