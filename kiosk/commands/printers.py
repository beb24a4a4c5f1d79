"""``kiosk printers``: the printers this terminal is configured with, and their state.

The ``[printing]`` section of the config describes the terminal's printer, called
``default``. When that is not the PDF folder, a second printer called ``pdf`` (PDF files
in the same folder the pdf backend would use) is always there too, so staff can still
produce a receipt while the real printer is broken.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from kiosk.cli import CliContext, CommandError, print_json
from printing import PrinterConfigError
from printing.printer import Printer, PrinterSettings, make_printer
from printing.queue import DEFAULT_RETRY_DELAYS

DEFAULT_PRINTER = "default"
PDF_PRINTER = "pdf"
RECEIPTS_FOLDER = "receipts"


def register(sub: Any) -> None:
    """Add ``printers``."""
    parser = sub.add_parser("printers", help="list configured printers and their state")
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.set_defaults(handler=list_printers)


def printer_settings(ctx: CliContext, paper: str | None = None) -> dict[str, PrinterSettings]:
    """The printers of this terminal by name, from the ``[printing]`` section."""
    cfg = ctx.config.printing
    folder = cfg.pdf_folder or ctx.data_dir / RECEIPTS_FOLDER
    common = {"paper": paper or cfg.paper, "pdf_folder": folder, "timeout_seconds": cfg.timeout_seconds}
    printers = {
        DEFAULT_PRINTER: PrinterSettings(
            name=DEFAULT_PRINTER,
            backend=cfg.backend,
            cups_printer=cfg.cups_printer,
            escpos_connection=cfg.escpos_connection,
            **common,
        )
    }
    if cfg.backend != "pdf":
        printers[PDF_PRINTER] = PrinterSettings(name=PDF_PRINTER, backend="pdf", **common)
    return printers


def printer_lookup(ctx: CliContext, paper: str | None = None) -> Callable[[str], Printer]:
    """A function giving the printer called ``name`` (``pdf`` means the default if that is the PDF folder).

    Raises ``KeyError`` for an unknown name (the print queue turns it into a clear error).
    """
    settings = printer_settings(ctx, paper)
    made: dict[str, Printer] = {}

    def lookup(name: str) -> Printer:
        if name == PDF_PRINTER and PDF_PRINTER not in settings:
            name = DEFAULT_PRINTER
        if name not in made:
            made[name] = make_printer(settings[name])
        return made[name]

    return lookup


def print_retry_delays(config: Any) -> tuple[timedelta, ...]:
    """The waits before each automatic retry of a failed print (``[printing] automatic_retries``)."""
    return DEFAULT_RETRY_DELAYS[: config.printing.automatic_retries]


def check_printer_name(ctx: CliContext, name: str) -> str:
    """``name`` if this terminal has such a printer; otherwise a CommandError listing them."""
    names = list(printer_settings(ctx))
    if name in names or name == PDF_PRINTER:
        return name
    raise CommandError(f"no printer named {name!r}; this terminal has: {', '.join(names)} (see `kiosk printers`)")


def list_printers(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk printers [--json]``."""
    rows = []
    for name, settings in printer_settings(ctx).items():
        row: dict[str, Any] = {"name": name, "backend": settings.backend, "paper": settings.paper}
        try:
            printer = make_printer(settings)
        except PrinterConfigError as exc:
            row.update(target=None, status={"state": "error", "health": "error", "detail": str(exc)})
        else:
            row.update(target=printer.describe(), status=printer.status().as_dict())
        rows.append(row)
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        status = row["status"]
        sys.stdout.write(
            f"{row['name']:<8} {row['backend']:<7} {row['paper']:<5} {status['state']:<15} "
            f"{row['target'] or '-'}\n"
        )
        if status["detail"]:
            sys.stdout.write(f"{'':<8} {status['detail']}\n")
    return 0
