"""``kiosk run``: the citizen's touch application (full screen; ``--windowed`` for development).

``--demo`` runs against the reference central platform started on localhost, with the
terminal enrolled against it and simulated devices (an ID card "tap" with demo
identities, a sample document for the scanner), so the whole journey can be tried on a
laptop. ``--agent`` (or ``[terminal] mode = "agent"``) starts the staff station instead
(docs/agent.md). See ``docs/ui.md``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from kiosk.cli import CliContext

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add ``run``."""
    p = sub.add_parser("run", help="start the kiosk's touch application")
    p.add_argument("--windowed", action="store_true", help="a normal window instead of full screen (development)")
    p.add_argument("--demo", action="store_true",
                   help="demo mode: local central platform, enrolled terminal, simulated devices")
    p.add_argument("--agent", action="store_true",
                   help="the agent (staff) station, whatever [terminal] mode says")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk run [--windowed] [--demo] [--agent]``."""
    from kiosk.doctor import refuse_newer_database
    from kiosk.ui.app import run_kiosk

    refuse_newer_database(ctx.data_dir)  # before Qt starts: a clear SetupError, exit 2
    if args.demo:
        from kiosk.ui.demo_central import DemoCentral

        with DemoCentral(ctx.data_dir, ctx.config) as central:
            central.enrol_terminal()
            status = run_kiosk(ctx.data_dir, ctx.config, windowed=args.windowed, demo=True, agent=args.agent,
                               demo_appointment=central.new_appointment)
    else:
        status = run_kiosk(ctx.data_dir, ctx.config, windowed=args.windowed, demo=False, agent=args.agent)
    _exit_now(status)
    return status  # not reached


def _exit_now(status: int) -> None:
    """End the process without the interpreter's final clean-up.

    Everything that matters is done by now: background work finished, the database closed,
    the demo platform stopped. What is left is Python tearing down thousands of PySide
    objects, which after a long day crashed in PySide's own clean-up ("bool_dealloc",
    found by the 1,000-session benchmark) and would turn a clean SIGTERM into a failure
    in systemd's eyes. So the logs are flushed and the process exits with ``status``.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
