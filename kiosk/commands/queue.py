"""``kiosk queue``: what has not reached the central platform yet, and why.

``queue list`` shows submissions with their outbox state, ``queue show`` one of them (by
submission id, receipt number or case number) with its attachments and audit trail, and
``queue retry`` sends a dead letter again once its cause is fixed. Only masked summaries
are ever shown: the sealed payload cannot be read on the terminal and is never printed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from kiosk.cli import CliContext, CommandError, print_json
from sync.outbox import ACCEPTED, CANCELLED, DEAD, PENDING, SENDING, OutboxError, QueueEntry
from sync.store import Store, StoreError, database_path, open_store

# What technicians ask for, mapped to outbox states: "pending" is everything not yet sent.
STATE_FILTERS: dict[str, tuple[str, ...]] = {
    "pending": (PENDING, SENDING),
    "sent": (ACCEPTED,),
    "dead": (DEAD,),
    "cancelled": (CANCELLED,),
}


def register(sub: Any) -> None:
    """Add ``queue list``, ``queue show`` and ``queue retry``."""
    parser = sub.add_parser("queue", help="submissions waiting to be sent, sent, or rejected")
    queue_sub = parser.add_subparsers(dest="queue_command", metavar="ACTION", required=True)

    p = queue_sub.add_parser("list", help="list submissions and their sending state")
    p.add_argument(
        "--state",
        choices=tuple(STATE_FILTERS),
        help="only pending (not yet sent), sent (accepted by central) or dead (rejected)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(handler=list_queue)

    p = queue_sub.add_parser("show", help="show one submission (never its sealed data)")
    p.add_argument("key", metavar="ID_OR_RECEIPT", help="submission id, receipt or case number")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(handler=show_entry)

    p = queue_sub.add_parser("retry", help="send a dead letter again after fixing its cause")
    p.add_argument("key", metavar="ID", help="submission id or receipt number of the dead letter")
    p.add_argument(
        "--reason",
        default="",
        help="why it can be sent now (kept in the audit log)",
    )
    p.set_defaults(handler=retry_entry)

    p = queue_sub.add_parser(
        "cancel", help="give up on a dead letter for good (a supervisor, with a reason)"
    )
    p.add_argument("key", metavar="ID", help="submission id or receipt number of the dead letter")
    p.add_argument("--reason", required=True, help="why it is cancelled (kept in the audit log)")
    p.add_argument("--staff", required=True, metavar="NAME",
                   help="supervisor account; its PIN is read from stdin or a prompt")
    p.set_defaults(handler=cancel_entry)


def open_terminal_store(ctx: CliContext) -> Store:
    """The terminal's store in its data folder, or a clear error (exit 2) naming the file."""
    try:
        return open_store(database_path(ctx.data_dir),
                          min_free_mb=ctx.config.store.min_free_disk_mb)
    except StoreError as exc:
        raise CommandError(str(exc), 2) from exc


def list_queue(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk queue list [--state pending|sent|dead] [--json]``."""
    states = STATE_FILTERS[args.state] if args.state else None
    with open_terminal_store(ctx) as store:
        entries = store.list_queue(states)
    if args.json:
        print_json([entry_as_dict(e) for e in entries])
        return 0
    if not entries:
        sys.stdout.write("no submissions" + (f" in state {args.state}" if args.state else "") + "\n")
        return 0
    for e in entries:
        name = e.summary.applicant_name or "-"
        line = (
            f"{e.receipt_no}  {e.state:<8} {_local(e.created_at)}  {e.service_id}  {name}"
            f"{'  [test]' if e.is_test else ''}"
        )
        if e.case_no:
            line += f"  case {e.case_no}"
        if e.state != ACCEPTED and e.last_error:
            line += f"  ({e.attempts} attempts; {_one_line(e.last_error)})"
        sys.stdout.write(line + "\n")
    return 0


def show_entry(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk queue show ID_OR_RECEIPT [--json]``."""
    with open_terminal_store(ctx) as store:
        entry = _find(store, args.key)
        audit = store.audit_entries(entry.submission_id)
    data = entry_as_dict(entry)
    data["audit"] = [
        {"at": a.at.isoformat(), "actor": a.actor, "action": a.action, "detail": a.detail}
        for a in audit
    ]
    if args.json:
        print_json(data)
        return 0
    s = entry.summary
    lines = [
        f"receipt        {entry.receipt_no}",
        f"submission     {entry.submission_id}",
        f"service        {entry.service_id} v{entry.form_version}  "
        f"{s.service_name.get('zh_CN', '')} {s.service_name.get('en', '')}".rstrip(),
        f"created        {_local(entry.created_at)}" + ("  [test]" if entry.is_test else ""),
        f"applicant      {s.applicant_name or '-'}  {s.id_number}  {s.mobile}".rstrip(),
        f"state          {entry.state} after {entry.attempts} attempt(s)",
    ]
    if entry.case_no:
        lines.append(f"case           {entry.case_no}")
    if entry.state in (PENDING, SENDING):
        lines.append(f"next attempt   {_local(entry.next_attempt_at)}")
    if entry.last_error:
        lines.append(f"last error     {entry.last_error}")
    if entry.purged:
        lines.append("sealed data    deleted after acceptance (retention)")
    for a in entry.attachments:
        status = "uploaded" if a.uploaded else "not uploaded"
        lines.append(f"attachment     {a.sha256[:16]}…  {a.mime}  {a.size} bytes  {status}")
    for a in audit:
        lines.append(f"audit          {_local(a.at)}  {a.actor}  {a.action}  {a.detail or ''}".rstrip())
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def retry_entry(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk queue retry ID [--reason TEXT]``: a dead letter goes back to pending."""
    reason = args.reason.strip() or "retried with kiosk queue retry (no reason given)"
    with open_terminal_store(ctx) as store:
        entry = _find(store, args.key)
        try:
            store.retry_dead(entry.submission_id, reason, actor="cli")
        except OutboxError as exc:
            raise CommandError(
                f"{entry.receipt_no} is {entry.state}, not a dead letter; only dead letters "
                "can be retried (see `kiosk queue list --state dead`)"
            ) from exc
    sys.stdout.write(f"{entry.receipt_no} queued again; it is sent on the next sync\n")
    return 0


def cancel_entry(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk queue cancel ID --reason TEXT --staff NAME``: a supervisor cancels a dead letter."""
    from datetime import timedelta

    from kiosk.commands.staff import read_pin
    from sync.staff import LockoutPolicy, StaffError, cancel_dead_letter, sign_in

    pin = read_pin(f"PIN of {args.staff}: ", confirm=False)
    staff_cfg = ctx.config.staff
    policy = LockoutPolicy(staff_cfg.max_failed_signins, timedelta(minutes=staff_cfg.lockout_minutes))
    with open_terminal_store(ctx) as store:
        entry = _find(store, args.key)
        result = sign_in(store, args.staff, pin, policy=policy)
        if not result.ok or result.account is None:
            raise CommandError(f"sign-in as {args.staff} refused ({result.outcome}); nothing was changed")
        try:
            cancel_dead_letter(store, result.account, entry.submission_id, args.reason)
        except StaffError as exc:
            raise CommandError(str(exc)) from exc
        except OutboxError as exc:
            raise CommandError(
                f"{entry.receipt_no} is {entry.state}, not a dead letter; only dead letters can be cancelled"
            ) from exc
    sys.stdout.write(f"{entry.receipt_no} cancelled by {result.account.username}; it will not be sent\n")
    return 0


def entry_as_dict(entry: QueueEntry) -> dict[str, Any]:
    """A queue entry as JSON-ready data (masked summary, no sealed data)."""
    return entry.as_dict()


def _find(store: Store, key: str) -> QueueEntry:
    try:
        return store.find(key)
    except OutboxError as exc:
        raise CommandError(str(exc)) from exc


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _one_line(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
