"""``kiosk audit``: the terminal's hash-chained audit log.

``audit verify`` walks the chain and reports OK or the first entry that was edited, deleted
or moved (exit status 1 then); ``audit list`` shows the entries. See :mod:`sync.audit`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk.cli import CliContext, print_json
from kiosk.commands.queue import open_terminal_store
from sync.audit import list_entries, verify_chain


def register(sub: Any) -> None:
    """Add ``audit verify`` and ``audit list``."""
    parser = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    p = audit_sub.add_parser("verify", help="check the hash chain; report the first broken entry")
    p.add_argument("--json", action="store_true", help='print {"ok", "entries", "broken_seq", "problem"}')
    p.set_defaults(handler=verify)

    p = audit_sub.add_parser("list", help="show audit entries, oldest first")
    p.add_argument("--since", type=int, default=0, metavar="SEQ", help="only entries after this number")
    p.add_argument("--limit", type=int, default=None, help="at most this many entries")
    p.add_argument("--action", default=None, help="only this action, e.g. sign-in-failed")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(handler=list_audit)


def verify(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk audit verify [--json]``: exit 0 when the chain is intact, 1 when broken."""
    with open_terminal_store(ctx) as store:
        report = verify_chain(store)
    if args.json:
        print_json(report.as_dict())
    elif report.ok:
        sys.stdout.write(f"audit log OK: {report.entries} entries, chain head {report.head_hash[:16]}\n")
    else:
        sys.stdout.write(
            f"audit log BROKEN at entry {report.broken_seq}: {report.problem}. The central platform holds "
            "a copy of the entries it received (kiosk-central audit verify).\n"
        )
    return 0 if report.ok else 1


def list_audit(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk audit list [--since SEQ] [--limit N] [--action A] [--json]``."""
    with open_terminal_store(ctx) as store:
        entries = list_entries(store, since_seq=args.since, limit=args.limit, action=args.action)
    if args.json:
        print_json([e.as_dict() for e in entries])
        return 0
    if not entries:
        sys.stdout.write("no audit entries\n")
    for e in entries:
        local = e.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        sys.stdout.write(f"{e.seq:>6}  {local}  {e.actor:<12} {e.action:<18} {e.detail or ''}\n")
    return 0
