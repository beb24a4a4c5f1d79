"""The PDF-folder backend: every document becomes a PDF file in a folder.

Files are named ``<date>/<document>-<time>.pdf`` and written atomically (a temporary file
renamed into place), so a half-written receipt never appears. This is the default
printer: it needs no hardware, and staff can open or print the file from any computer.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from printing.errors import PrintError
from printing.layout import Document
from printing.paper import Paper
from printing.render_pdf import render_pdf
from printing.status import PrinterState, PrinterStatus

log = logging.getLogger(__name__)

# Below this much free space the folder is reported as "paper near end".
LOW_SPACE_BYTES = 50 * 1024 * 1024
_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]+")


class PdfFolderPrinter:
    """Writes each document as a PDF into ``folder``."""

    kind = "pdf"

    def __init__(self, folder: Path, *, paper: Paper, name: str = "pdf") -> None:
        self.folder = Path(folder)
        self.paper = paper
        self.name = name

    def describe(self) -> str:
        """The folder."""
        return str(self.folder)

    def print_document(self, doc: Document, *, job_name: str) -> str:
        """Write ``doc`` as a PDF; returns the file's path."""
        now = datetime.now()
        day = self.folder / f"{now:%Y-%m-%d}"
        safe = _UNSAFE.sub("_", job_name).strip("_") or "document"
        target = day / f"{safe}-{now:%H%M%S%f}.pdf"
        try:
            data = render_pdf(doc)
            day.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".printing-", suffix=".pdf", dir=day)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise PrintError(f"cannot write the PDF into {day}: {exc.strerror or exc}; check the folder") from exc
        log.info("Printed %s to %s", job_name, target)
        return str(target)

    def status(self) -> PrinterStatus:
        """``online`` when the folder can be written, ``paper_near_end`` when the disk is almost full."""
        folder = self.folder
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if not os.access(probe, os.W_OK):
            return PrinterStatus(PrinterState.ERROR, f"cannot write to {folder}")
        free = shutil.disk_usage(probe).free
        if free < LOW_SPACE_BYTES:
            return PrinterStatus(PrinterState.PAPER_NEAR_END, f"only {free // (1024 * 1024)} MB free in {folder}")
        return PrinterStatus(PrinterState.ONLINE, f"writing PDFs to {folder}")
