"""Codes from the kiosk's scanners, delivered to the screens.

A keyboard-wedge (USB HID) scanner types what it reads. :class:`WedgeKeyFilter` sits in
front of every widget: each printable key goes to :class:`devices.wedge.WedgeDetector`
first, and only keys it decides a person typed reach the focused field (re-sent as key
events); a burst it decides is a scan becomes a :class:`~devices.scan.ScanResult` on
:attr:`WedgeKeyFilter.scanned`, so a scanned receipt never lands in a text box. A person's
key is held back for at most the detector's ``max_gap`` (40 ms).
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from devices.scan import ScanResult
from devices.wedge import TypedKeys, WedgeDetector

log = logging.getLogger(__name__)

TERMINATOR_KEYS = {Qt.Key.Key_Return: "\r", Qt.Key.Key_Enter: "\r", Qt.Key.Key_Tab: "\t"}


class WedgeKeyFilter(QObject):
    """Application-wide key filter separating scanner bursts from typing."""

    scanned = Signal(object)  # ScanResult

    def __init__(self, detector: WedgeDetector | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.detector = detector or WedgeDetector()
        self._replaying = False
        self._held_events: list[QKeyEvent] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._poll)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Hold printable keys and terminators until the detector has decided."""
        if self._replaying or event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = Qt.Key(event.key())
        char = TERMINATOR_KEYS.get(key) or event.text()
        if len(char) != 1 or (not char.isprintable() and char not in "\r\t"):
            return False
        if char in "\r\t" and not self.detector.holding:
            return False  # Enter/Tab on its own: a person's, pass it on
        self._held_events.append(QKeyEvent(event.type(), event.key(), event.modifiers(), event.text()))
        self._handle(self.detector.feed(char, time.monotonic()))
        return True

    def _poll(self) -> None:
        self._handle(self.detector.poll(time.monotonic()))

    def _handle(self, events: list[TypedKeys | ScanResult]) -> None:
        for event in events:
            if isinstance(event, ScanResult):
                self._held_events.clear()
                log.info("scan from the keyboard-wedge scanner (%s)", event.kind.value)
                self.scanned.emit(event)
            else:
                self._release(len(event.text))
        deadline = self.detector.next_deadline()
        if deadline is not None:
            self._timer.start(max(1, int((deadline - time.monotonic()) * 1000) + 1))

    def _release(self, count: int) -> None:
        """Send the first ``count`` held keys on to the focused widget, in order."""
        to_send, self._held_events = self._held_events[:count], self._held_events[count:]
        target = QApplication.focusWidget()
        if target is None:
            return
        self._replaying = True
        try:
            for event in to_send:
                QApplication.sendEvent(target, event)
        finally:
            self._replaying = False


class SerialScannerFeed(QObject):
    """A barcode scanner in serial mode (``[devices] scanner_port``) feeding :attr:`scanned`.

    :class:`devices.serial_scanner.SerialScanner` reads on its own thread; its scans are
    re-emitted here and reach the window on the UI thread (a queued connection, since the
    signal is emitted from the reader's thread). A scanner that is unplugged, or not plugged
    in yet when the kiosk starts, is tried again every ``retry_ms`` so it works as soon as it
    is back, without a restart; a missing scanner is logged once, and again when it is back.
    """

    scanned = Signal(object)  # ScanResult

    def __init__(self, port: str, baudrate: int, *, retry_ms: int = 5000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from devices.serial_scanner import SerialScanner

        self.scanner = SerialScanner(port, self.scanned.emit, baudrate=baudrate)
        self._retry = QTimer(self, interval=retry_ms)
        self._retry.timeout.connect(self._ensure_running)
        self._reported = ""

    def start(self) -> None:
        """Start reading now (if the port is there) and keep checking it."""
        self._ensure_running()
        self._retry.start()

    def stop(self) -> None:
        """Stop reading and close the port."""
        self._retry.stop()
        self.scanner.stop()

    def running(self) -> bool:
        """Whether the port is open and being read."""
        return self.scanner.reading()

    def _ensure_running(self) -> None:
        if self.running():
            return
        self.scanner.stop()  # a reader that ended on an unplugged port: close it before reopening
        try:
            self.scanner.start()
        except Exception as exc:  # SerialException / OSError: not there (yet)
            problem = f"serial scanner at {self.scanner.port} cannot be opened ({exc}); retrying"
            if problem != self._reported:  # once per problem, not every few seconds
                log.warning("%s", problem)
                self._reported = problem
            return
        if self._reported:
            log.info("serial scanner at %s is back", self.scanner.port)
        self._reported = ""
