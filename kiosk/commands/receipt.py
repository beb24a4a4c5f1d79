"""``kiosk receipt``: render a submission's receipt to a PDF file, or reprint it.

The receipt is found in the terminal's store by receipt number (read tolerantly). If it
was printed here before, exactly that receipt is used again (from the print queue);
otherwise it is built from the submission's masked summary, the service guide in the
active catalog and the hall's name in the config. Only masked values ever reach paper.

``--out FILE.pdf`` writes a PDF and prints nothing. Without it the receipt is reprinted
through the print queue on ``--printer`` (default: the terminal's printer) as a staff
reprint: marked "补打 / Reprint" on paper, recorded in the audit log; a printer failure
keeps the job (retried, and listed for staff) and exits with status 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from kiosk.cli import CliContext, CommandError
from kiosk.commands.printers import DEFAULT_PRINTER, check_printer_name, print_retry_delays, printer_lookup
from printing import Bilingual, PrintError, ReceiptData, paper_named
from printing.queue import PRINTED, PrintQueue, UnknownPrintJob
from sync.outbox import OutboxError, QueueEntry
from sync.store import StoreError, database_path, open_store

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add ``receipt``."""
    parser = sub.add_parser("receipt", help="render a receipt to PDF, or reprint it")
    parser.add_argument("receipt_no", metavar="RECEIPT_NO", help="receipt number, e.g. SZ01-K7M-261123-00042-7")
    parser.add_argument("--out", metavar="FILE.pdf", type=Path, help="write the receipt as a PDF file instead")
    parser.add_argument("--printer", metavar="NAME", help=f"printer to reprint on (default: {DEFAULT_PRINTER})")
    parser.add_argument("--paper", choices=("80mm", "58mm", "a4"), help="paper to lay out for (default: the printer's)")
    parser.set_defaults(handler=receipt)


def receipt(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk receipt RECEIPT_NO [--out FILE.pdf] [--printer NAME] [--paper 80mm|58mm|a4]``."""
    if args.out is not None and args.printer is not None:
        raise CommandError("give either --out (write a PDF) or --printer (reprint), not both")
    printer_name = check_printer_name(ctx, args.printer or DEFAULT_PRINTER)
    try:
        store = open_store(database_path(ctx.data_dir))
    except StoreError as exc:
        raise CommandError(str(exc), 2) from exc
    with store:
        try:
            entry = store.find(args.receipt_no)
        except OutboxError as exc:
            raise CommandError(f"no submission with receipt number {args.receipt_no!r} on this terminal") from exc
        queue = PrintQueue(store, printer_lookup(ctx, args.paper), retry_delays=print_retry_delays(ctx.config))
        if args.out is not None:
            return _write_pdf(_receipt_data(ctx, queue, entry), args.out, args.paper or ctx.config.printing.paper)
        try:
            job = queue.reprint_receipt(entry.receipt_no, lambda: _built_receipt(ctx, entry), actor="cli",
                                        printer=printer_name, paper=args.paper, submission_id=entry.submission_id)
        except PrintError as exc:
            raise CommandError(str(exc), 2) from exc
    if job.state != PRINTED:
        raise CommandError(
            f"receipt {entry.receipt_no} was not printed on {printer_name}: {job.last_error} "
            f"(print job {job.id} is kept and retried)"
        )
    sys.stdout.write(f"receipt {entry.receipt_no} printed on {printer_name}: {job.output}\n")
    return 0


def _receipt_data(ctx: CliContext, queue: PrintQueue, entry: QueueEntry) -> ReceiptData:
    """What was printed for this receipt before, else a receipt built anew."""
    try:
        return queue.receipt_data(queue.latest_for(entry.receipt_no).id)
    except UnknownPrintJob:
        return _built_receipt(ctx, entry)


def _built_receipt(ctx: CliContext, entry: QueueEntry) -> ReceiptData:
    """A receipt built from the submission's masked summary and the active catalog."""
    from printing.compose import receipt_for_submission

    hall = Bilingual(ctx.config.hall.name_zh, ctx.config.hall.name_en)
    return receipt_for_submission(entry.receipt_no, entry.summary, hall_name=hall,
                                  service=_service(ctx, entry.service_id))


def _service(ctx: CliContext, service_id: str) -> Any:
    """The service's definition from the active catalog, or ``None`` (the receipt then omits the guide)."""
    from kiosk.catalog_source import open_catalog

    try:
        return open_catalog(ctx.data_dir, ctx.config).get(service_id)
    except Exception as exc:  # a broken or changed catalog must not stop a reprint
        log.warning("Service %s not found in the catalog (%s); the receipt omits time limits and materials",
                    service_id, exc)
        return None


def _write_pdf(data: ReceiptData, out: Path, paper_name: str) -> int:
    from printing.receipt import layout_receipt
    from printing.render_pdf import render_pdf

    pdf = render_pdf(layout_receipt(data, paper_named(paper_name)))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from exc
    sys.stdout.write(f"receipt {data.receipt_no} written to {out}\n")
    return 0


