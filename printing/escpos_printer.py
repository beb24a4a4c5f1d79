"""The thermal-printer backend: ESC/POS over USB, serial or the network, via python-escpos.

The layout goes to the printer as one raster image (``GS v 0``), exactly the print head's
width: 576 dots on an 80 mm roll, 384 on a 58 mm roll (203 dpi). Chinese text is reliable
on ESC/POS only this way: the printers' built-in fonts and code pages differ by model.
A full cut (``GS V``) follows each document.

Before printing, and for :meth:`EscposPrinter.status`, the printer is asked for its
state with the real-time status commands (``DLE EOT 1`` online, ``DLE EOT 4`` paper
sensor). A printer that does not answer (many USB models, one-way serial cables) is
``unknown`` and is printed to anyway; one that answers "paper out" is not, so the print
queue records the failure instead of a receipt that never came out.

Connections: see :mod:`printing.escpos_connection`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from escpos import exceptions as escpos_errors
from escpos.escpos import Escpos

from printing.errors import PrinterConfigError, PrintError
from printing.escpos_connection import EscposConnection
from printing.layout import Document
from printing.paper import Paper
from printing.render_raster import render_raster
from printing.status import PrinterState, PrinterStatus

log = logging.getLogger(__name__)

INIT = b"\x1b\x40"  # ESC @: reset the printer's modes before each document
STATUS_ONLINE = b"\x10\x04\x01"  # DLE EOT 1
STATUS_PAPER = b"\x10\x04\x04"  # DLE EOT 4
# Rows per GS v 0 command: printers' receive buffers are small; 256 rows of 72 bytes = 18 KB.
FRAGMENT_ROWS = 256


DeviceFactory = Callable[[EscposConnection, float], Escpos]


def open_device(connection: EscposConnection, timeout: float) -> Escpos:
    """A python-escpos printer for ``connection`` (opened on first use)."""
    from escpos import printer

    if connection.kind == "usb":
        return printer.Usb(connection.vendor, connection.number, timeout=int(timeout * 1000))
    if connection.kind == "serial":
        return printer.Serial(connection.target, baudrate=connection.number, timeout=timeout)
    return printer.Network(connection.target, port=connection.number, timeout=timeout)


class EscposPrinter:
    """Prints raster images with a cut to a thermal printer."""

    kind = "escpos"

    def __init__(
        self,
        connection: EscposConnection,
        *,
        paper: Paper,
        name: str = "escpos",
        timeout: float = 10.0,
        device_factory: DeviceFactory = open_device,
    ) -> None:
        if paper.dots is None:
            raise PrinterConfigError(f"printer {name}: ESC/POS printers take 80mm or 58mm rolls, not {paper.name}")
        self.connection = connection
        self.paper = paper
        self.name = name
        self.timeout = timeout
        self._device_factory = device_factory

    def describe(self) -> str:
        """The connection, e.g. ``network:192.168.1.50:9100``."""
        return str(self.connection)

    def _device(self) -> Escpos:
        device = self._device_factory(self.connection, self.timeout)
        # Tell python-escpos the head width so it refuses (never truncates) a wider image;
        # a copy, because profile data is shared by every printer of the same profile.
        data: dict[str, Any] = deepcopy(device.profile.profile_data)
        data.setdefault("media", {})["width"] = {"mm": self.paper.width_mm - 8, "pixels": self.paper.dots}
        data["media"]["dpi"] = self.paper.dpi
        device.profile.profile_data = data
        return device

    def print_document(self, doc: Document, *, job_name: str) -> str:
        """Send ``doc`` as a raster image and cut; returns the connection."""
        if doc.paper.dots != self.paper.dots:
            raise PrintError(
                f"{job_name} is laid out for {doc.paper.name} but {self.name} holds {self.paper.name} paper"
            )
        image = render_raster(doc)
        device = self._device()
        try:
            state = _query(device)
            if state.state in (PrinterState.PAPER_OUT, PrinterState.OFFLINE):
                raise PrintError(f"{self.name} ({self.describe()}): {state.detail}")
            device._raw(INIT)
            device.image(image, impl="bitImageRaster", fragment_height=FRAGMENT_ROWS)
            device.cut()
        except PrintError:
            raise
        except (escpos_errors.Error, OSError, AssertionError) as exc:
            raise PrintError(f"{self.name} ({self.describe()}) did not take the job: {exc}") from exc
        finally:
            _close(device)
        log.info("Printed %s on %s (%s), %dx%d dots", job_name, self.name, self.describe(), *image.size)
        return self.describe()

    def status(self) -> PrinterStatus:
        """Ask the printer (``DLE EOT``); ``unknown`` if it cannot answer, ``offline`` if unreachable."""
        try:
            device = self._device()
        except Exception as exc:  # a missing USB backend or driver: report, never raise
            return PrinterStatus(PrinterState.ERROR, f"{self.describe()}: {exc}")
        try:
            return _query(device)
        except (escpos_errors.Error, OSError, AssertionError) as exc:
            return PrinterStatus(PrinterState.OFFLINE, f"{self.describe()}: {exc}")
        finally:
            _close(device)


def _query(device: Escpos) -> PrinterStatus:
    """Ask for the online and paper states; ``unknown`` when the connection cannot read."""
    online = _ask(device, STATUS_ONLINE)
    if online is None:
        return PrinterStatus(PrinterState.UNKNOWN, "the printer does not report its status")
    if online & 0x08:
        return PrinterStatus(PrinterState.OFFLINE, "the printer is offline (cover open or error)")
    paper = _ask(device, STATUS_PAPER)
    if paper is not None:
        if paper & 0x60 == 0x60:
            return PrinterStatus(PrinterState.PAPER_OUT, "out of paper")
        if paper & 0x0C == 0x0C:
            return PrinterStatus(PrinterState.PAPER_NEAR_END, "paper roll near its end")
    return PrinterStatus(PrinterState.ONLINE, "ready")


def _ask(device: Escpos, command: bytes) -> int | None:
    """Send a real-time status command; the answer byte, or ``None`` if none can be read."""
    device._raw(command)
    try:
        answer = device._read()
    except (NotImplementedError, TimeoutError):
        return None
    if not answer:
        return None
    return answer[0]


def _close(device: Escpos) -> None:
    try:
        device.close()
    except Exception:  # closing a broken connection must not hide the real error
        log.debug("Closing the ESC/POS device failed", exc_info=True)
