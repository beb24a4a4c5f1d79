"""The system-printer backend on Linux: the PDF goes to a CUPS queue through ``lp``.

The document is rendered to PDF (font embedded) and piped to ``lp -d QUEUE``; roll
documents ask for a custom media size of exactly the roll width and the receipt's length,
so the driver neither scales nor pads them. Status comes from ``lpstat -l -p QUEUE``
(enabled / disabled, and the printer's alerts such as ``media-empty``).

Windows has no ``lp``: see ``docs/printing.md`` for how the same PDF is printed there.
"""

from __future__ import annotations

import logging
import re
import subprocess

from printing.errors import PrintError
from printing.layout import Document
from printing.paper import MM, Paper
from printing.render_pdf import render_pdf
from printing.status import PrinterState, PrinterStatus

log = logging.getLogger(__name__)

_REQUEST_RE = re.compile(r"request id is (\S+)")
_DEFAULT_RE = re.compile(r"system default destination:\s*(\S+)")


class CupsPrinter:
    """Prints PDFs to the CUPS queue ``queue`` (``None``: the system's default destination)."""

    kind = "cups"

    def __init__(
        self,
        queue: str | None,
        *,
        paper: Paper,
        name: str = "cups",
        timeout: float = 10.0,
        lp_command: str = "lp",
        lpstat_command: str = "lpstat",
    ) -> None:
        self.queue = queue
        self.paper = paper
        self.name = name
        self.timeout = timeout
        self.lp_command = lp_command
        self.lpstat_command = lpstat_command

    def describe(self) -> str:
        """The CUPS queue."""
        return f"CUPS queue {self.queue}" if self.queue else "the system's default CUPS queue"

    def lp_arguments(self, doc: Document, job_name: str) -> list[str]:
        """The ``lp`` command line for ``doc`` (the PDF itself goes to standard input)."""
        args = [self.lp_command]
        if self.queue:
            args += ["-d", self.queue]
        args += ["-t", job_name, "-o", f"media={self._media(doc)}"]
        return args

    def _media(self, doc: Document) -> str:
        paper = doc.paper
        if not paper.is_roll:
            return paper.name.upper()
        length_mm = (doc.pages[0].height + 2 * paper.top_margin_pt) / MM
        return f"Custom.{paper.width_mm:g}x{length_mm:.0f}mm"

    def print_document(self, doc: Document, *, job_name: str) -> str:
        """Send ``doc`` to the queue; returns CUPS's request id."""
        data = render_pdf(doc)
        args = self.lp_arguments(doc, job_name)
        try:
            done = subprocess.run(args, input=data, capture_output=True, timeout=self.timeout, check=False)
        except FileNotFoundError as exc:
            raise PrintError(f"{self.lp_command} not found: install the CUPS client (Debian: cups-client)") from exc
        except subprocess.TimeoutExpired as exc:
            raise PrintError(f"{self.describe()} did not take the job within {self.timeout:g} s") from exc
        stdout = done.stdout.decode("utf-8", "replace")
        stderr = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode != 0:
            raise PrintError(f"{self.describe()} refused the job: {stderr or f'lp exited with {done.returncode}'}")
        match = _REQUEST_RE.search(stdout)
        request = match.group(1) if match else stdout.strip() or "(no request id)"
        log.info("Printed %s to %s as %s", job_name, self.describe(), request)
        return request

    def status(self) -> PrinterStatus:
        """The queue's state from ``lpstat``; ``unknown`` where CUPS cannot be asked."""
        queue = self.queue
        if queue is None:
            out = self._lpstat("-d")
            if isinstance(out, PrinterStatus):
                return out
            match = _DEFAULT_RE.search(out)
            if match is None:
                return PrinterStatus(PrinterState.ERROR, "no default CUPS printer; set [printing] cups_printer")
            queue = match.group(1)
        out = self._lpstat("-l", "-p", queue)
        if isinstance(out, PrinterStatus):
            return out
        return parse_lpstat(queue, out)

    def _lpstat(self, *args: str) -> str | PrinterStatus:
        try:
            done = subprocess.run([self.lpstat_command, *args], capture_output=True, text=True,
                                  timeout=self.timeout, check=False)
        except FileNotFoundError:
            return PrinterStatus(PrinterState.UNKNOWN, f"{self.lpstat_command} not found (CUPS client not installed)")
        except subprocess.TimeoutExpired:
            return PrinterStatus(PrinterState.UNKNOWN, "CUPS did not answer")
        if done.returncode != 0:
            return PrinterStatus(PrinterState.ERROR, (done.stderr or done.stdout).strip() or "lpstat failed")
        return done.stdout


def parse_lpstat(queue: str, text: str) -> PrinterStatus:
    """Read ``lpstat -l -p QUEUE`` output as a printer state."""
    lower = text.lower()
    if "media-empty" in lower or "media-needed" in lower:
        return PrinterStatus(PrinterState.PAPER_OUT, f"{queue}: out of paper")
    if "media-low" in lower:
        return PrinterStatus(PrinterState.PAPER_NEAR_END, f"{queue}: paper running low")
    if "disabled" in lower or "offline" in lower:
        return PrinterStatus(PrinterState.OFFLINE, f"{queue}: disabled or offline")
    if "idle" in lower or "now printing" in lower:
        return PrinterStatus(PrinterState.ONLINE, f"{queue}: ready")
    return PrinterStatus(PrinterState.UNKNOWN, text.strip().splitlines()[0] if text.strip() else queue)
