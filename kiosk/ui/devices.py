"""Devices for the UI: the ID card reader (simulated in demo mode) and the document scanner.

In demo mode the ID card reader is :class:`devices.idcard_simulator.IdCardSimulator` on a
pseudo-terminal, read through the real driver (:class:`devices.idcard.IdCardReader`), so a
"tap" in the demo exercises the same code a real reader does. Reading blocks (serial I/O),
so screens call :meth:`DemoIdCardReader.tap` through the background helper.

A real reader (``[devices] idcard_port``) is polled by :class:`IdCardPoller` while the
identification screen shows. The document scanner in demo mode hands out a bundled sample page. A real document camera
(``kiosk.camera``) is not wired into the UI yet: :func:`scanner_available` says so and the
screen tells the citizen to ask at the help desk.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from devices.idcard import IdCardReader
from devices.idcard_simulator import IdCardSimulator, demo_identity
from devices.identity import Identity
from sync.submission import Attachment

log = logging.getLogger(__name__)

SAMPLE_PAGE = Path(__file__).resolve().parent / "resources" / "sample_document.jpg"


def demo_identities() -> dict[str, Identity]:
    """Made-up, valid demo cards: a working-age applicant and an 85-year-old."""
    base = demo_identity()
    elder = dataclasses.replace(
        base,
        name="李秀英",
        sex="female",
        birth_date="1941-03-15",
        address="广东省深圳市南山区南海大道3001号",
        id_number="440305194103150027",
        issuing_authority="深圳市公安局南山分局",
        valid_from="2006-04-01",
        valid_until="长期",
    )
    return {"zhang_san": base, "li_xiuying": elder}


class DemoIdCardReader:
    """A simulated reader on a pty and the real driver talking to it."""

    def __init__(self) -> None:
        self._simulator: IdCardSimulator | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Open the pty (no card on the reader yet)."""
        with self._lock:
            if self._simulator is None:
                self._simulator = IdCardSimulator(None).start()
                log.info("demo ID card reader on %s", self._simulator.port)

    def stop(self) -> None:
        """Close the pty."""
        with self._lock:
            if self._simulator is not None:
                self._simulator.stop()
                self._simulator = None

    def tap(self, identity: Identity) -> Identity | None:
        """Place ``identity``'s card on the reader, read it through the driver, take it away. Blocks."""
        self.start()
        with self._lock:
            simulator = self._simulator
            assert simulator is not None
            simulator.insert_card(identity)
            try:
                with IdCardReader(simulator.port, timeout=1.0) as reader:
                    return reader.read_identity()
            finally:
                simulator.remove_card()


def scanner_available(demo: bool) -> bool:
    """Whether the kiosk can take in a document page now."""
    return demo and SAMPLE_PAGE.is_file()


def scan_sample_page(page: int) -> Attachment:
    """The demo scanner: the bundled sample page as a JPEG attachment. Blocks (file I/O)."""
    return Attachment(SAMPLE_PAGE.read_bytes(), "image/jpeg", f"scan-{page}.jpg")


class IdCardPoller(QObject):
    """A real ID card reader on a serial port, polled while the identification screen is showing.

    Reading blocks (serial I/O), so it runs in its own thread. A card is reported once
    (:attr:`card_read`, delivered on the UI thread); the next card is reported only after
    this one has been taken off the reader. Trouble (a card pulled away mid-read, a reader
    unplugged) goes to :attr:`card_failed` with a short reason and the poller keeps trying:
    a reader plugged back in works again without a restart.
    """

    card_read = Signal(object)  # Identity
    card_failed = Signal(str)  # "removed", "unreadable", "reader"

    def __init__(self, port: str, baudrate: int = 115_200, interval: float = 0.4,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.port = port
        self.baudrate = baudrate
        self.interval = interval
        self._active = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def set_active(self, active: bool) -> None:
        """Poll (the identify screen is showing) or not."""
        if active:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="id-card-reader", daemon=True)
                self._thread.start()
            self._active.set()
        else:
            self._active.clear()

    def stop(self) -> None:
        """End the thread (application exit)."""
        self._stop.set()
        self._active.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _loop(self) -> None:
        from devices.idcard import CardDataError, CardRemoved, IdCardError

        reader: IdCardReader | None = None
        card_present = False
        while not self._stop.is_set():
            self._active.wait()
            if self._stop.is_set():
                break
            try:
                if reader is None:
                    reader = IdCardReader(self.port, baudrate=self.baudrate, timeout=1.0)
                    reader.open()
                identity = reader.read_identity()
                if identity is None:
                    card_present = False
                elif not card_present:
                    card_present = True
                    self.card_read.emit(identity)
            except CardRemoved:
                self.card_failed.emit("removed")
            except CardDataError as exc:
                log.warning("ID card unreadable: %s", exc)
                card_present = True  # one message per card
                self.card_failed.emit("unreadable")
            except IdCardError as exc:
                log.warning("ID card reader at %s: %s", self.port, exc)
                self.card_failed.emit("reader")
                if reader is not None:
                    reader.close()
                reader = None
                self._stop.wait(2.0)  # unplugged: try again in a moment
            self._stop.wait(self.interval)
        if reader is not None:
            reader.close()
