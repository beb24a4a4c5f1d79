"""``kiosk hall``: appointment check-in, walk-in tickets and "call staff" from the command line.

The same functions the kiosk screens use (:mod:`sync.checkin`, :mod:`sync.hall_sync`), for
demos, tests and a technician checking a terminal. The printed ticket goes through the
print queue like the screen's.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from kiosk.cli import CliContext, CommandError, print_json
from kiosk.commands.queue import open_terminal_store
from sync.checkin import CheckinRefused, CheckinWindow, category_prefix, check_in_appointment, take_ticket
from sync.enrolment import NotEnrolled


def register(sub: Any) -> None:
    """Add ``hall checkin``, ``hall ticket`` and ``hall help``."""
    parser = sub.add_parser("hall", help="appointment check-in, queue tickets, call staff")
    hall_sub = parser.add_subparsers(dest="hall_command", metavar="ACTION", required=True)

    p = hall_sub.add_parser("checkin", help="check in with an appointment code (verified offline)")
    p.add_argument("token", metavar="TOKEN", help="the appointment QR code's text (TBA1....)")
    p.add_argument("--language", choices=("zh_CN", "en"), default=None, help="language of a refusal")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=checkin)

    p = hall_sub.add_parser("ticket", help="take a walk-in queue ticket for a service category")
    p.add_argument("category", metavar="CATEGORY", help="category id from the catalog")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=ticket)

    p = hall_sub.add_parser("help", help="call staff (reaches agent stations through the central platform)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=call_staff)


def checkin(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk hall checkin TOKEN``: exit 1 with the citizen's message when refused."""
    window = CheckinWindow(early=timedelta(minutes=ctx.config.hall.checkin_early_minutes))
    language = args.language or ctx.config.terminal.language
    with open_terminal_store(ctx) as store:
        try:
            issued = check_in_appointment(store, args.token, window=window)
        except CheckinRefused as exc:
            if args.json:
                print_json({"ok": False, "kind": exc.kind, "message": exc.message(language), "reason": str(exc)})
                return 1
            raise CommandError(f"{exc.message(language)} ({exc.kind}: {exc})") from exc
        except NotEnrolled as exc:
            raise CommandError(str(exc), 2) from exc
    if args.json:
        print_json({"ok": True, **issued.as_dict()})
    else:
        sys.stdout.write(f"checked in: ticket {issued.ticket_no} ({issued.waiting_ahead} waiting ahead)\n")
    return 0


def ticket(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk hall ticket CATEGORY``."""
    from kiosk.catalog_source import open_catalog

    catalog = open_catalog(ctx.data_dir, ctx.config)
    ids = [c.id for c in catalog.categories]
    try:
        prefix = category_prefix(ids, args.category)
    except ValueError as exc:
        raise CommandError(f"{exc}; categories: {', '.join(ids)}") from exc
    with open_terminal_store(ctx) as store:
        issued = take_ticket(store, args.category, prefix)
    if args.json:
        print_json(issued.as_dict())
    else:
        sys.stdout.write(f"ticket {issued.ticket_no} ({issued.waiting_ahead} waiting ahead)\n")
    return 0


def call_staff(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk hall help``: exit 1 when the platform could not be told (go to the help desk)."""
    from kiosk.commands.enroll import client_settings
    from sync.client import CentralClient
    from sync.hall_sync import HELP_TIMEOUT_SECONDS, raise_help_request

    with open_terminal_store(ctx) as store:
        try:
            enrolment = store.require_enrolment()
        except NotEnrolled as exc:
            raise CommandError(str(exc), 2) from exc
        settings = client_settings(ctx)
        settings["read_timeout"] = min(settings["read_timeout"], HELP_TIMEOUT_SECONDS)
        with CentralClient(enrolment.central_url, token=enrolment.token, **settings) as client:
            raised = raise_help_request(store, client)
    if args.json:
        print_json({"request_id": raised.request_id, "delivered": raised.delivered, "error": raised.error})
    elif raised.delivered:
        sys.stdout.write("staff have been called\n")
    else:
        sys.stdout.write(f"staff could not be called ({raised.error}); please go to the help desk\n")
    return 0 if raised.delivered else 1
