"""``kiosk report daily``: the day's figures at this terminal as CSV and/or PDF."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.cli import CliContext, CommandError, print_json
from kiosk.commands.queue import open_terminal_store
from sync.report import daily_summary, write_csv
from sync.store_common import utc_now


def register(sub: Any) -> None:
    """Add ``report daily``."""
    parser = sub.add_parser("report", help="reports for hall staff")
    report_sub = parser.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    p = report_sub.add_parser("daily", help="counts by service and outcome, average session time")
    p.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="the local day (default: today)")
    p.add_argument("--csv", type=Path, default=None, metavar="FILE", help="write the summary as CSV")
    p.add_argument("--pdf", type=Path, default=None, metavar="FILE", help="write the summary as an A4 PDF")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=daily)


def daily(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk report daily [--date D] [--csv FILE] [--pdf FILE] [--json]``."""
    now = utc_now()
    try:
        day = date.fromisoformat(args.date) if args.date else now.astimezone().date()
    except ValueError as exc:
        raise CommandError(f"--date {args.date!r} is not a date like 2025-03-14") from exc
    with open_terminal_store(ctx) as store:
        summary = daily_summary(store, day, now=now)
    try:
        if args.csv:
            write_csv(summary, args.csv)
        if args.pdf:
            from printing.daily_report import write_daily_pdf

            write_daily_pdf(summary, args.pdf)
    except OSError as exc:
        raise CommandError(f"cannot write the report to {exc.filename}: {exc.strerror}") from exc
    if args.json:
        print_json(summary.as_dict())
    else:
        sys.stdout.write(
            f"{day.isoformat()}: {summary.total} submissions ({summary.on_behalf} on behalf), "
            f"outcomes {summary.by_outcome}, {summary.tickets} tickets\n"
        )
        for path in (args.csv, args.pdf):
            if path:
                sys.stdout.write(f"wrote {path}\n")
    return 0
