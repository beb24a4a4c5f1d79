"""``kiosk doctor``: the terminal's self-test, for technicians.

Checks the config file, the data folder, the database, enrolment, the catalog, each
configured device and printer, the central platform and the clock, free disk space and the
fonts (see :mod:`kiosk.doctor`). Each check prints pass / warn / fail, what it found and, if
it is not a pass, the fix. Exit status 0 when nothing failed, 1 otherwise. It runs on a
fresh machine too (no config file, nothing enrolled, no devices) and says what is missing.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk.cli import CliContext, print_json, version

# Set on the parser so the CLI starts this command even when the config file is broken:
# reporting that is the doctor's job.
SURVIVES_BAD_CONFIG = "survives_bad_config"

_MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}


def register(sub: Any) -> None:
    """Add ``doctor``."""
    p = sub.add_parser(
        "doctor",
        help="self-test: config, database, enrolment, catalog, devices, printers, network, clock, disk",
        description="Check everything this terminal needs and say how to fix what is wrong. "
        "Exit status 0 when no check failed.",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print a JSON array of {"name", "status" (pass|warn|fail), "detail", "fix"}',
    )
    p.set_defaults(handler=doctor, **{SURVIVES_BAD_CONFIG: True})


def doctor(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk doctor [--json]``."""
    from kiosk.doctor import exit_status, run_checks, timestamp
    from kiosk.paths import resolve_config_path

    results = run_checks(ctx.data_dir, resolve_config_path(ctx.data_dir))
    if args.json:
        print_json([r.as_json() for r in results])
        return exit_status(results)
    lines = [f"Tongban {version()} self-test, {timestamp()}, data folder {ctx.data_dir}", ""]
    for r in results:
        lines.append(f"{_MARK[r.status.value]}  {r.name}: {r.detail}")
        if r.fix:
            lines.append(f"      fix: {r.fix}")
    failed = sum(r.status.value == "fail" for r in results)
    warned = sum(r.status.value == "warn" for r in results)
    lines += ["", f"{len(results)} checks: {failed} failed, {warned} warnings"]
    sys.stdout.write("\n".join(lines) + "\n")
    return exit_status(results)
