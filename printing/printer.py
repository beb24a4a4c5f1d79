"""Printers: what every backend does, and making one from a printer's settings.

Three backends, one interface (:class:`Printer`):

* ``pdf`` — :class:`printing.pdf_folder.PdfFolderPrinter` writes each document as a PDF
  into a folder (the default: it works on every terminal, and staff can print the file);
* ``cups`` — :class:`printing.cups.CupsPrinter` sends the PDF to a system print queue with
  ``lp`` (Linux; see ``docs/printing.md`` for Windows);
* ``escpos`` — :class:`printing.escpos_printer.EscposPrinter` sends the layout as a raster
  image with a paper cut to a thermal printer over USB, serial or the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from printing.errors import PrinterConfigError
from printing.layout import Document
from printing.paper import Paper, paper_named
from printing.status import PrinterStatus

BACKENDS = ("pdf", "cups", "escpos")


class Printer(Protocol):
    """A place documents can be printed to."""

    name: str
    kind: str
    paper: Paper

    def describe(self) -> str:
        """Where documents go (folder, print queue or connection), for staff and technicians."""
        ...

    def print_document(self, doc: Document, *, job_name: str) -> str:
        """Print ``doc``; return where it went (a file, a CUPS request id, the connection).

        Raises:
            PrintError: it could not be printed; the message says what to check.
        """
        ...

    def status(self) -> PrinterStatus:
        """The printer's state now (never raises: a failure is an ``error`` state)."""
        ...


@dataclass(frozen=True)
class PrinterSettings:
    """How one printer is configured (the ``[printing]`` section of the kiosk's config)."""

    name: str = "receipt"
    backend: str = "pdf"
    paper: str = "80mm"
    pdf_folder: Path | None = None
    cups_printer: str = ""
    escpos_connection: str = ""
    timeout_seconds: float = 10.0


def make_printer(settings: PrinterSettings) -> Printer:
    """The printer ``settings`` describe.

    Raises:
        PrinterConfigError: unknown backend or paper, a missing folder or connection, or a
            connection string that cannot be read; the message names the setting.
    """
    try:
        paper = paper_named(settings.paper)
    except ValueError as exc:
        raise PrinterConfigError(f"printer {settings.name}: {exc}") from None
    if settings.backend == "pdf":
        from printing.pdf_folder import PdfFolderPrinter

        if settings.pdf_folder is None:
            raise PrinterConfigError(f"printer {settings.name}: the pdf backend needs a folder ([printing] pdf_folder)")
        return PdfFolderPrinter(Path(settings.pdf_folder), paper=paper, name=settings.name)
    if settings.backend == "cups":
        from printing.cups import CupsPrinter

        return CupsPrinter(settings.cups_printer or None, paper=paper, name=settings.name,
                           timeout=settings.timeout_seconds)
    if settings.backend == "escpos":
        from printing.escpos_connection import EscposConnection
        from printing.escpos_printer import EscposPrinter

        if not settings.escpos_connection:
            raise PrinterConfigError(
                f"printer {settings.name}: the escpos backend needs [printing] escpos_connection, "
                "e.g. usb:0x0416:0x5011, serial:/dev/ttyUSB0:9600 or network:192.168.1.50:9100"
            )
        connection = EscposConnection.parse(settings.escpos_connection)
        return EscposPrinter(connection, paper=paper, name=settings.name, timeout=settings.timeout_seconds)
    raise PrinterConfigError(
        f"printer {settings.name}: unknown backend {settings.backend!r}; use one of {', '.join(BACKENDS)}"
    )
