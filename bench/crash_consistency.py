"""Crash consistency at scale: SIGKILL a terminal at random points of enqueue, sync and catalog update.

    .venv/bin/python bench/crash_consistency.py [--kills 200] [--seed 1] [--json]
                                                [--kinds enqueue,sync,catalog] [--aim 0.5]

One terminal (a real SQLite file in a temporary folder) is enrolled at the real central
platform (``kiosk-central serve`` on 127.0.0.1, behind a pass-through
:class:`tests.support.faultproxy.FaultProxy` so the platform can be restarted on a new
port without re-enrolling). Rounds of ``tests/e2e/crash_worker.py`` run in turn, each a
separate process on the same database, each killed with SIGKILL at a random moment:

* ``enqueue`` rounds commit submissions back to back (each with a unique marker in its
  ``employer`` answer); killed uniformly within ``--enqueue-window`` seconds of READY;
* ``sync`` rounds push the outbox in batches of ``--batch-size`` (attachments, batch request, settling);
  killed uniformly within ``--sync-window`` seconds of READY;
* ``catalog`` rounds: the platform is restarted publishing a new signed catalog (the
  bundled one with a category renamed ``rev N``), and the worker pulls, verifies, writes
  and switches to it; killed uniformly within the time an uninterrupted catalog cycle took
  in this run, or (a share ``--aim`` of them) within 80-120% of it, at the end of the apply
  where files are written and switched (rounds that end before the kill are not kills).

The kill point kind is what the worker announced last (``PHASE ...``) before the kill.
After every kill, before the next process starts, the database is checked:
``PRAGMA integrity_check`` is ``ok``; every submission the terminal ever reported committed
is still there with the same receipt number and the same sealed payload (SHA-256); no
receipt number is used twice; the catalog in use is the old or the new version and its
files are byte for byte those of a clean apply of that version (never a mix). The next
process starting and working shows the terminal goes on. At the end ``kiosk sync --once
--now`` (the real CLI) drains the outbox, and the platform must hold every submission of
the terminal exactly once, each with the marker the terminal reported for it.

The baseline in the same run is the uninterrupted speed of each step (from the rounds
that ended before their kill, and the worker's own ``DONE`` timings). Prints a markdown
report (``--json``: the figures as JSON, for the test suite); exits 1 if anything was
lost, duplicated, damaged or half-applied.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from catalog import DEFAULT_CATALOG_DIR  # noqa: E402
from central.sqlite_store import DB_FILE  # noqa: E402
from forms import load_catalog  # noqa: E402
from kiosk.commands.sync import catalog_root  # noqa: E402
from sync.catalog_update import apply_bundle, current_catalog  # noqa: E402
from sync.engine import client_for  # noqa: E402
from sync.store import database_path, open_store  # noqa: E402
from tests.support.answers import valid_answers  # noqa: E402
from tests.support.central_process import (  # noqa: E402
    create_enrolment_code,
    start_central_process,
    stop_central_process,
)
from tests.support.faultproxy import FaultProxy  # noqa: E402
from tests.support.killer import run_and_kill  # noqa: E402

SERVICE_ID = "residence-permit"
MARKER_FIELD = "employer"
WORKER = REPO / "tests" / "e2e" / "crash_worker.py"
KINDS = ("enqueue", "sync", "catalog")
BETWEEN = "between steps"


@dataclass
class Committed:
    """A submission the terminal reported committed (a receipt the citizen would hold)."""

    submission_id: str
    receipt_no: str
    sealed_sha256: str
    marker: str


@dataclass
class KindStats:
    """Per kill point kind: what the checks after each kill found."""

    kills: int = 0
    integrity_failures: int = 0
    lost: int = 0
    duplicated: int = 0
    catalog_half: int = 0
    restart_failures: int = 0


@dataclass
class Run:
    """Everything the run observed."""

    stats: dict[str, KindStats] = field(default_factory=lambda: defaultdict(KindStats))
    committed: dict[str, Committed] = field(default_factory=dict)
    rounds: int = 0
    unkilled: Counter[str] = field(default_factory=Counter)
    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    catalogs_published: int = 0
    catalog_outcomes: Counter[str] = field(default_factory=Counter)
    after_catalog_kill: Counter[str] = field(default_factory=Counter)  # old kept / new live
    problems: list[str] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)


# --- checks after each kill ---------------------------------------------------------------------


def _check_store(terminal: Path, run: Run) -> tuple[bool, int, int]:
    """(integrity ok, reported-committed submissions missing or changed, duplicates)."""
    try:
        store = open_store(database_path(terminal), min_free_mb=0)
    except Exception as exc:  # a database that does not even open is an integrity failure
        run.problems.append(f"store does not open: {exc}")
        return False, len(run.committed), 0
    try:
        ok = store.integrity_check() == ["ok"]
        rows = store.db.execute(
            "SELECT id, receipt_no, sealed_payload FROM submissions"
        ).fetchall()
        outbox = {r[0] for r in store.db.execute("SELECT submission_id FROM outbox").fetchall()}
    finally:
        store.close()
    by_id = {r[0]: (r[1], hashlib.sha256(r[2] or b"").hexdigest()) for r in rows}
    lost = 0
    for item in run.committed.values():
        found = by_id.get(item.submission_id)
        if found is None or found != (item.receipt_no, item.sealed_sha256) or (
            item.submission_id not in outbox
        ):
            lost += 1
            run.problems.append(f"committed {item.receipt_no} missing or changed: {found}")
    receipts = Counter(r[1] for r in rows)
    duplicated = sum(n - 1 for n in receipts.values() if n > 1)
    if duplicated:
        run.problems.append(f"receipt numbers used twice: {receipts.most_common(3)}")
    return ok, lost, duplicated


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _check_catalog(terminal: Path, allowed: dict[str | None, dict[str, bytes] | None],
                   run: Run) -> tuple[bool, str | None]:
    """Whether the catalog in use is one of ``allowed`` (version -> files), complete."""
    in_use = current_catalog(catalog_root(terminal))
    version = in_use.version if in_use else None
    if version not in allowed:
        run.problems.append(f"catalog in use {version} is neither the old nor the new one")
        return False, version
    expected = allowed[version]
    if in_use is None or expected is None:
        return True, version
    try:
        load_catalog(in_use.path)
    except Exception as exc:
        run.problems.append(f"catalog {version[:12]} in use does not load: {exc}")
        return False, version
    if _tree(in_use.path) != expected:
        run.problems.append(f"catalog {version[:12]} in use differs from a clean apply")
        return False, version
    return True, version


# --- the platform's catalog -------------------------------------------------------------------


def _catalog_revision(root: Path, n: int) -> Path:
    """The bundled catalog with its first category renamed ``rev n``: a new version."""
    folder = root / f"catalog-rev{n}"
    shutil.copytree(DEFAULT_CATALOG_DIR, folder, ignore=shutil.ignore_patterns("__*", "*.py"))
    path = folder / "categories.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("Household & Residence", f"Household & Residence rev {n}", 1),
                    "utf-8")
    return folder


def _reference_apply(terminal: Path, scratch: Path) -> tuple[str, dict[str, bytes]]:
    """Fetch the platform's current catalog and apply it to a scratch folder: its files."""
    with open_store(database_path(terminal), min_free_mb=0) as store:
        enrolment = store.require_enrolment()
    with client_for(enrolment, read_timeout=10.0) as client:
        fetched = client.get_catalog(None)
    assert fetched is not None
    bundle, etag = fetched
    shutil.rmtree(scratch, ignore_errors=True)
    applied = apply_bundle(bundle, enrolment.catalog_signing_key, scratch, etag=etag,
                           validate=load_catalog)
    return applied.version, _tree(applied.path)


# --- the run --------------------------------------------------------------------------------------


def _kiosk(terminal: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--data-dir", str(terminal), *args],
        capture_output=True, text=True, cwd=REPO, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def crash_run(root: Path, kills: int, seed: int, windows: dict[str, float], batch_size: int,
              log: Any, kinds: tuple[str, ...] = KINDS, aim: float = 0.5) -> Run:
    """Run rounds until ``kills`` kills happened (spread over the three kinds)."""
    rng = random.Random(seed)
    run = Run()
    central_dir = root / "central"
    terminal = root / "terminal"
    url, central = start_central_process(central_dir)
    proxy = FaultProxy(url, max_lifetime=24 * 3600).start()
    try:
        done = _kiosk(terminal, "enroll", "--central", proxy.url,
                      "--code", create_enrolment_code(central_dir))
        if done.returncode != 0:
            raise SystemExit(f"enrolment failed: {done.stderr}")
        catalog = load_catalog(DEFAULT_CATALOG_DIR)
        answers, files = valid_answers(catalog, SERVICE_ID, rng)
        spec = root / "answers.json"
        spec.write_text(json.dumps({
            "service_id": SERVICE_ID,
            "form_version": catalog.get(SERVICE_ID).version,
            "answers": answers,
            "files": [{"content": base64.b64encode(f.content).decode(), "mime": f.mime,
                       "name": f.name} for f in files],
        }))
        in_use: str | None = None
        known: dict[str | None, dict[str, bytes] | None] = {None: None}
        kind_kills: Counter[str] = Counter()  # by the worker's mode, to balance the kinds
        targets = {k: kills // len(kinds) + (1 if i < kills % len(kinds) else 0)
                   for i, k in enumerate(kinds)}
        while sum(kind_kills.values()) < kills:
            mode = min(kinds, key=lambda k: (kind_kills[k] / max(targets[k], 1), kinds.index(k)))
            run.rounds += 1
            allowed = {in_use: known[in_use]}
            if mode == "catalog":
                run.catalogs_published += 1
                folder = _catalog_revision(root, run.catalogs_published)
                stop_central_process(central)
                url, central = start_central_process(central_dir, folder)
                proxy.set_upstream(url)
                version, files_of = _reference_apply(terminal, root / "reference")
                known[version] = files_of
                allowed[version] = files_of
                trigger, window = "PHASE catalog", windows["catalog"]
            else:
                trigger, window = "READY", windows[mode]
            cmd = [sys.executable, str(WORKER), str(terminal), str(spec), "120",
                   "--mode", mode, "--marker-field", MARKER_FIELD, "--tag", f"r{run.rounds}",
                   "--batch-size", str(batch_size)]
            delay = rng.uniform(0, window)
            if mode == "catalog" and rng.random() < aim:
                # Aimed at the apply's end (write, fsync, switch, record): the cycle's first
                # part is mostly HTTP and verifying, which changes nothing on disk.
                delay = rng.uniform(0.8 * window, 1.2 * window)
            if mode == "catalog" and not run.durations["catalog"]:
                delay = 120.0  # the first catalog round runs uninterrupted: the baseline
            lines, killed, status = run_and_kill(cmd, trigger, delay)
            phase = mode
            for line in lines:
                parts = line.split()
                if parts[:1] == ["PHASE"]:
                    phase = parts[1]
                elif parts[:1] == ["DONE"]:
                    phase = BETWEEN  # until the next PHASE: between steps, or exiting
                elif parts[:1] == ["COMMITTED"]:
                    run.committed[parts[1]] = Committed(parts[1], parts[2], parts[3], parts[4])
                if parts[:1] == ["DONE"]:
                    run.durations[parts[1]].append(float(parts[2]))
                    if parts[1] == "catalog":
                        run.catalog_outcomes[parts[3]] += 1
            started = any(line == "READY" for line in lines)
            if not killed:
                run.unkilled[mode] += 1
                if status != 0 or not started:
                    run.stats[phase].restart_failures += 1
                    run.problems.append(f"round {run.rounds} ({mode}) ended with {status}")
            if mode == "catalog" and run.durations["catalog"]:
                # Uninterrupted catalog cycles took this long: kill within that time next.
                windows["catalog"] = max(0.05, statistics.median(run.durations["catalog"]))
            ok, lost, duplicated = _check_store(terminal, run)
            before = in_use
            catalog_ok, in_use = _check_catalog(terminal, allowed, run)
            if killed and mode == "catalog":
                run.after_catalog_kill["new in use" if in_use != before else "old kept"] += 1
            if not killed:
                if not (ok and catalog_ok) or lost or duplicated:
                    run.stats[phase].integrity_failures += not ok
                    run.stats[phase].lost += lost
                    run.stats[phase].duplicated += duplicated
                    run.stats[phase].catalog_half += not catalog_ok
                continue
            if not started:
                run.stats[phase].restart_failures += 1
            kind_kills[mode] += 1
            stats = run.stats[phase]
            stats.kills += 1
            stats.integrity_failures += not ok
            stats.lost += lost
            stats.duplicated += duplicated
            stats.catalog_half += not catalog_ok
            if log is not None:
                log(f"kill {sum(kind_kills.values())}/{kills}: {mode} round killed in {phase} "
                    f"after {delay:.3f}s; {len(run.committed)} committed; "
                    f"catalog {str(in_use)[:12]}; ok={ok and catalog_ok and not lost}")
        run.final = _final_drain(terminal, central_dir, run)
    finally:
        proxy.stop()
        stop_central_process(central)
    return run


def central_submissions(central_dir: Path, device_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(submission id, receipt number, decrypted answers) of what the platform holds."""
    conn = sqlite3.connect(f"file:{central_dir / DB_FILE}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT submission_id, receipt_no, answers FROM submissions WHERE device_id = ?",
            (device_id,),
        ).fetchall()
    finally:
        conn.close()
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


def _final_drain(terminal: Path, central_dir: Path, run: Run) -> dict[str, Any]:
    """Drain with the real CLI, then compare the terminal with the platform."""
    report: dict[str, Any] = {}
    for _ in range(10):
        done = _kiosk(terminal, "sync", "--once", "--now", "--json")
        try:
            report = json.loads(done.stdout)
        except json.JSONDecodeError:
            run.problems.append(f"kiosk sync failed: {done.stderr.strip()[-300:]}")
            continue
        if report.get("pending") == 0:
            break
    with open_store(database_path(terminal), min_free_mb=0) as store:
        integrity = store.integrity_check()
        queue_entries = store.list_queue()
        device_id = store.require_enrolment().device_id
        recorded = store.current_catalog_version()
    on_disk = current_catalog(catalog_root(terminal))
    catalog_recorded = (recorded.version if recorded else None) == (
        on_disk.version if on_disk else None)
    if not catalog_recorded:
        run.problems.append(f"store records catalog {recorded} but {on_disk} is in use")
    local_ids = {e.submission_id for e in queue_entries}
    held = central_submissions(central_dir, device_id)
    on_central = Counter(r[0] for r in held)
    duplicated = sum(n - 1 for n in on_central.values() if n > 1)
    lost = len(local_ids - set(on_central))
    reported_lost = sum(1 for s in run.committed if s not in on_central)
    markers = {r[0]: r[2].get(MARKER_FIELD) for r in held}
    wrong_content = sum(1 for c in run.committed.values()
                        if c.submission_id in markers and markers[c.submission_id] != c.marker)
    # The same marker under two submission ids would be one enqueue delivered twice.
    marker_dups = sum(n - 1 for n in Counter(markers.values()).values() if n > 1)
    receipts = Counter(r[1] for r in held)
    return {
        "pending": report.get("pending"),
        "dead": report.get("dead"),
        "integrity": integrity,
        "committed_local": len(local_ids),
        "reported_committed": len(run.committed),
        "on_central": len(held),
        "central_duplicates": duplicated + marker_dups,
        "central_lost": lost + reported_lost,
        "wrong_content": wrong_content,
        "receipt_reuse_on_central": sum(n - 1 for n in receipts.values() if n > 1),
        "not_on_platform_only_locally": len(set(on_central) - local_ids),
        "catalog_recorded": catalog_recorded,
    }


# --- the report -----------------------------------------------------------------------------------


def _median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f}" if values else "-"


def report(run: Run, args: argparse.Namespace, seconds: float) -> str:
    """The markdown report."""
    out = [
        f"# Crash consistency: {sum(s.kills for s in run.stats.values())} SIGKILLs "
        f"(seed {args.seed})",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.platform()}, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; "
        f"{run.rounds} rounds in {seconds / 60:.1f} min.",
        "",
        "| kill point | kills | integrity failures | lost | duplicated | catalog half-applied "
        "| restart failures | uninterrupted step, median ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total = KindStats()
    for kind in sorted(run.stats, key=lambda k: ((*KINDS, BETWEEN, k)).index(k)):
        s = run.stats[kind]
        for name in ("kills", "integrity_failures", "lost", "duplicated", "catalog_half",
                     "restart_failures"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        out.append(f"| {kind} | {s.kills} | {s.integrity_failures} | {s.lost} | {s.duplicated} | "
                   f"{s.catalog_half} | {s.restart_failures} | {_median_ms(run.durations[kind])} |")
    out.append(f"| **all** | **{total.kills}** | **{total.integrity_failures}** | "
               f"**{total.lost}** | **{total.duplicated}** | **{total.catalog_half}** | "
               f"**{total.restart_failures}** | |")
    f = run.final
    out += [
        "",
        "After the final drain (`kiosk sync --once --now`):",
        "",
        "| submissions reported committed | in the terminal | on central | lost | "
        "duplicated on central | wrong content | left pending | dead |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {f['reported_committed']} | {f['committed_local']} | {f['on_central']} | "
        f"{f['central_lost']} | {f['central_duplicates']} | {f['wrong_content']} | "
        f"{f['pending']} | {f['dead']} |",
        "",
        f"Catalog versions published: {run.catalogs_published}; after a kill in a catalog round: "
        f"{dict(run.after_catalog_kill)}; uninterrupted catalog rounds: "
        f"{dict(run.catalog_outcomes)}. Rounds that ended before their kill: "
        f"{dict(run.unkilled)}. Final integrity_check: {f['integrity']}; the store records the "
        f"catalog version in use: {f['catalog_recorded']}.",
    ]
    if run.problems:
        out += ["", "Problems:", *[f"- {p}" for p in run.problems[:30]]]
    return "\n".join(out)


def failed(run: Run) -> bool:
    """Whether anything was lost, duplicated, damaged or half-applied."""
    f = run.final
    bad = any(s.integrity_failures or s.lost or s.duplicated or s.catalog_half
              or s.restart_failures for s in run.stats.values())
    return bool(bad or f["central_lost"] or f["central_duplicates"] or f["wrong_content"]
                or f["pending"] or f["dead"] or f["integrity"] != ["ok"]
                or f["receipt_reuse_on_central"] or f["not_on_platform_only_locally"]
                or not f["catalog_recorded"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=10, help="sync batch size of the workers")
    parser.add_argument("--enqueue-window", type=float, default=0.5,
                        help="kill enqueue rounds within this many seconds of READY")
    parser.add_argument("--sync-window", type=float, default=2.5,
                        help="kill sync rounds within this many seconds of READY")
    parser.add_argument("--catalog-window", type=float, default=0.8,
                        help="first guess of a catalog apply's duration (then measured)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="which rounds to run, comma-separated (default: all three)")
    parser.add_argument("--aim", type=float, default=0.5,
                        help="share of catalog kills aimed at the end of the apply")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args()
    kinds = tuple(k for k in KINDS if k in args.kinds.split(","))
    if not kinds or set(args.kinds.split(",")) - set(KINDS):
        parser.error(f"--kinds: a comma-separated list of {', '.join(KINDS)}, not {args.kinds!r}")
    windows = {"enqueue": args.enqueue_window, "sync": args.sync_window,
               "catalog": args.catalog_window}

    def progress(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tongban-crash-") as tmp:
        run = crash_run(Path(tmp), args.kills, args.seed, windows, args.batch_size,
                        None if args.quiet else progress, kinds, args.aim)
    seconds = time.monotonic() - started
    if args.json:
        print(json.dumps({
            "kinds": {k: vars(s) for k, s in run.stats.items()},
            "final": run.final,
            "rounds": run.rounds,
            "catalogs_published": run.catalogs_published,
            "catalog_outcomes": dict(run.catalog_outcomes),
            "after_catalog_kill": dict(run.after_catalog_kill),
            "problems": run.problems,
            "failed": failed(run),
        }, indent=2))
    else:
        print(report(run, args, seconds))
    return 1 if failed(run) else 0


if __name__ == "__main__":
    sys.exit(main())
