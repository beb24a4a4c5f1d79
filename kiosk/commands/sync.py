"""``kiosk sync``: push the outbox, pull case status and the signed catalog.

``kiosk sync --once`` runs one cycle of the sync engine (:func:`sync.engine.run_once`) and
exits: 0 when the cycle ran without errors, 1 when something failed (items are kept and
retried later), 3 when another sync worker was busy. Without ``--once`` it keeps syncing
every ``[central] sync_interval_seconds`` until interrupted.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

from kiosk.catalog_source import SYNCED_CATALOG_FOLDER
from kiosk.cli import CliContext, CommandError, print_json
from kiosk.commands.enroll import client_settings
from kiosk.commands.queue import open_terminal_store
from sync.client import InsecureUrlError
from sync.engine import DEFAULT_BATCH_SIZE, SyncOptions, SyncReport, client_for, run_once
from sync.protocol import MAX_BATCH_ITEMS
from sync.store import Store

EXIT_BUSY = 3


def register(sub: Any) -> None:
    """Add ``sync``."""
    p = sub.add_parser(
        "sync",
        help="send queued submissions, pull case status and the signed catalog",
    )
    p.add_argument("--once", action="store_true", help="run one cycle and exit")
    p.add_argument(
        "--json",
        action="store_true",
        help='print the cycle\'s report as JSON ({"pushed", "pending", "dead", ...})',
    )
    p.add_argument(
        "--now",
        dest="ignore_backoff",
        action="store_true",
        help="send every pending item now, without waiting for its retry time",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"submissions per request (1..{MAX_BATCH_ITEMS}, default {DEFAULT_BATCH_SIZE})",
    )
    p.set_defaults(handler=sync_command)


def catalog_root(data_dir: Path) -> Path:
    """The folder that holds ``current`` (the signed catalog the kiosk loads)."""
    return (data_dir / SYNCED_CATALOG_FOLDER).parent


def _validate_catalog(folder: Path) -> object:
    """Load a freshly written catalog with the forms engine (raises if it is unusable)."""
    from forms import load_catalog

    return load_catalog(folder)


def sync_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk sync [--once] [--json] [--now] [--batch-size N]``."""
    if not 1 <= args.batch_size <= MAX_BATCH_ITEMS:
        raise CommandError(f"--batch-size must be 1..{MAX_BATCH_ITEMS}", 2)
    options = SyncOptions(
        batch_size=args.batch_size,
        catalog_root=catalog_root(ctx.data_dir),
        validate_catalog=_validate_catalog,
        ignore_backoff=args.ignore_backoff,
    )
    with open_terminal_store(ctx) as store:
        if args.once:
            report = _cycle(store, ctx, options)
            _show(report, args.json)
            return EXIT_BUSY if report.busy else (0 if report.ok else 1)
        return _loop(store, ctx, options, args.json)


def _cycle(store: Store, ctx: CliContext, options: SyncOptions) -> SyncReport:
    enrolment = store.enrolment()
    if enrolment is None:
        raise CommandError(
            "the terminal is not enrolled; run `kiosk enroll --central URL --code CODE`", 2
        )
    try:
        client = client_for(enrolment, **client_settings(ctx))
    except (InsecureUrlError, FileNotFoundError) as exc:
        raise CommandError(str(exc), 2) from exc
    with client:
        return run_once(store, client, options=options)


def _loop(store: Store, ctx: CliContext, options: SyncOptions, as_json: bool) -> int:
    """Sync every ``sync_interval_seconds`` until Ctrl-C (KeyboardInterrupt -> exit 130)."""
    interval = float(ctx.config.central.sync_interval_seconds)
    stop = threading.Event()
    while not stop.is_set():
        _show(_cycle(store, ctx, options), as_json)
        stop.wait(interval)
    return 0


def _show(report: SyncReport, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    if report.busy:
        sys.stdout.write("another sync is running on this terminal; nothing done\n")
        return
    lines = [
        f"pushed {report.pushed} ({report.accepted} new, {report.duplicates} already there), "
        f"{report.pending} pending, {report.dead} dead letters",
    ]
    if report.newly_dead:
        lines.append(f"moved to dead letters now: {report.newly_dead} (see kiosk queue list "
                     "--state dead)")
    if report.status_changes:
        lines.append(f"case status changes: {report.status_changes}")
    lines.append(f"catalog: {report.catalog}"
                 + (f" ({report.catalog_version[:12]})" if report.catalog_version else ""))
    lines.extend(f"error: {error}" for error in report.errors)
    sys.stdout.write("\n".join(lines) + "\n")
