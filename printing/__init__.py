"""Receipts and queue tickets: layouts, printer backends and the print queue. Plain Python.

Public names (heavier modules — reportlab, Pillow, python-escpos — load on first use)::

    from printing import ReceiptData, TicketData, Bilingual          # what goes on paper
    from printing import layout_receipt, layout_ticket               # -> Document
    from printing import render_pdf, render_raster                   # Document -> PDF bytes / 1-bit image
    from printing import PrinterSettings, make_printer               # pdf folder, CUPS lp, ESC/POS
    from printing import PrintQueue, PrintJob                        # jobs in the local store, retries, reprints
    from printing import receipt_for_submission                      # summary + service guide + hall -> ReceiptData

See ``docs/printing.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

from printing.data import Bilingual, ReceiptData, TicketData
from printing.errors import PrinterConfigError, PrintError
from printing.paper import A4, PAPERS, ROLL_58MM, ROLL_80MM, Paper, paper_named
from printing.status import PrinterState, PrinterStatus

_LAZY = {
    "Document": "printing.layout",
    "layout_receipt": "printing.receipt",
    "layout_ticket": "printing.ticket",
    "render_pdf": "printing.render_pdf",
    "render_raster": "printing.render_raster",
    "Printer": "printing.printer",
    "PrinterSettings": "printing.printer",
    "make_printer": "printing.printer",
    "PrintQueue": "printing.queue",
    "PrintJob": "printing.queue",
    "UnknownPrintJob": "printing.queue",
    "receipt_for_submission": "printing.compose",
    "add_working_days": "printing.workdays",
}

__all__ = [
    "A4",
    "PAPERS",
    "ROLL_58MM",
    "ROLL_80MM",
    "Bilingual",
    "Paper",
    "PrintError",
    "PrinterConfigError",
    "PrinterState",
    "PrinterStatus",
    "ReceiptData",
    "TicketData",
    "paper_named",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    """Load the heavier modules (reportlab, Pillow, python-escpos) only when used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'printing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
