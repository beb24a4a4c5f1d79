"""``kiosk staff``: staff accounts of an agent station (PINs hashed with argon2id).

PINs are read from standard input (one line; for scripts) or asked for without echo on a
terminal, never taken from the command line, where they would end up in the shell history
and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from kiosk.cli import CliContext, CommandError, print_json
from kiosk.commands.queue import open_terminal_store
from sync.staff import ROLES, StaffError, add_staff, list_staff, reset_pin


def register(sub: Any) -> None:
    """Add ``staff add``, ``staff list`` and ``staff reset-pin``."""
    parser = sub.add_parser("staff", help="staff accounts for the agent station")
    staff_sub = parser.add_subparsers(dest="staff_command", metavar="ACTION", required=True)

    p = staff_sub.add_parser("add", help="create an account (PIN from stdin or a prompt)")
    p.add_argument("username", metavar="NAME", help="sign-in name: 2-32 of a-z 0-9 . _ -")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--display-name", default=None, help="name shown on screen (default: NAME)")
    p.set_defaults(handler=add)

    p = staff_sub.add_parser("list", help="list accounts with role and lock-out state")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(handler=list_accounts)

    p = staff_sub.add_parser("reset-pin", help="set a new PIN and lift a lock-out")
    p.add_argument("username", metavar="NAME")
    p.set_defaults(handler=reset)


def read_pin(prompt: str = "PIN: ", *, confirm: bool = True) -> str:
    """A PIN from a prompt without echo (asked twice), or the first line of piped stdin."""
    if sys.stdin.isatty():
        pin = getpass.getpass(prompt)
        if confirm and getpass.getpass("again: ") != pin:
            raise CommandError("the two PINs differ; nothing was changed")
        return pin
    line = sys.stdin.readline()
    pin = line.rstrip("\r\n")
    if not pin:
        raise CommandError("no PIN on standard input: pipe it in (`printf '%s\\n' PIN | kiosk staff ...`)")
    return pin


def add(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk staff add NAME --role ROLE``."""
    pin = read_pin()
    with open_terminal_store(ctx) as store:
        try:
            account = add_staff(store, args.username, pin, args.role, display_name=args.display_name)
        except StaffError as exc:
            raise CommandError(str(exc)) from exc
    sys.stdout.write(f"staff account {account.username} ({account.role}) created\n")
    return 0


def list_accounts(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk staff list [--json]``."""
    with open_terminal_store(ctx) as store:
        accounts = list_staff(store)
    if args.json:
        print_json([a.as_dict() for a in accounts])
        return 0
    if not accounts:
        sys.stdout.write("no staff accounts; add one with `kiosk staff add NAME --role agent`\n")
    for a in accounts:
        state = f"locked until {a.locked_until.astimezone():%H:%M}" if a.locked_until else "active"
        sys.stdout.write(f"{a.username:<16} {a.role:<11} {a.display_name:<16} {state}\n")
    return 0


def reset(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk staff reset-pin NAME``."""
    pin = read_pin("new PIN: ")
    with open_terminal_store(ctx) as store:
        try:
            account = reset_pin(store, args.username, pin)
        except StaffError as exc:
            raise CommandError(str(exc)) from exc
    sys.stdout.write(f"PIN of {account.username} reset; any lock-out is lifted\n")
    return 0
