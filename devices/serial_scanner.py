"""Serial (USB CDC) barcode scanners: each scan is a line on a serial port.

Hand-held and counter scanners in serial mode send the decoded text followed by CR
and/or LF. Unlike keyboard-wedge mode this carries any character, so Chinese QR content
arrives intact; scanners send it as UTF-8 or, on older models, as GB18030/GBK, which we
detect (UTF-8 first, because GBK text is almost never valid UTF-8).

:class:`SerialScanner` reads lines on its own thread and calls ``on_scan`` with a
:class:`~devices.scan.ScanResult` for each; :meth:`SerialScanner.health` says whether the
port is there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import serial

from devices.health import DeviceHealth, connected, degraded, missing
from devices.payload import MAX_PAYLOAD_BYTES, classify
from devices.scan import BarcodeFormat, Classifier, ScanResult, ScanSource, make_scan_result

log = logging.getLogger(__name__)

DEVICE = "serial-scanner"
DEFAULT_BAUDRATE = 9600
_TERMINATORS = b"\r\n"


def decode_line(raw: bytes) -> str:
    """A scanner's line as text: UTF-8, else GB18030 (older Chinese scanners), else lossy UTF-8."""
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


class LineSplitter:
    """Cuts a byte stream into lines at CR or LF, bounded to ``max_length`` bytes per line.

    An overlong line (a misconfigured scanner, line noise) is dropped whole, up to its
    terminator, and counted in :attr:`dropped`.
    """

    def __init__(self, max_length: int = MAX_PAYLOAD_BYTES) -> None:
        self.max_length = max_length
        self.dropped = 0
        self._buffer = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes]:
        """The complete, non-empty lines ``data`` finishes, without their terminators."""
        lines: list[bytes] = []
        for byte in data:
            if byte in _TERMINATORS:
                if self._buffer and not self._discarding:
                    lines.append(bytes(self._buffer))
                self._buffer.clear()
                self._discarding = False
            elif not self._discarding:
                self._buffer.append(byte)
                if len(self._buffer) > self.max_length:
                    self.dropped += 1
                    self._buffer.clear()
                    self._discarding = True
                    log.warning("dropped a serial scan longer than %d bytes", self.max_length)
        return lines


class SerialScanner:
    """A barcode scanner in serial mode on ``port``; scans go to ``on_scan`` on a worker thread."""

    def __init__(
        self,
        port: str,
        on_scan: Callable[[ScanResult], None],
        *,
        baudrate: int = DEFAULT_BAUDRATE,
        classifier: Classifier = classify,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.on_scan = on_scan
        self.classifier = classifier
        self.last_error = ""
        self._serial: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._splitter = LineSplitter()

    def open(self) -> None:
        """Open the port.

        Raises:
            serial.SerialException: the port does not exist or cannot be opened.
        """
        if self._serial is None:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=0.1)

    def close(self) -> None:
        """Close the port (safe to call twice)."""
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError):
                pass
            self._serial = None

    def start(self) -> None:
        """Open the port and read scans on a worker thread until :meth:`stop`."""
        self.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="serial-scanner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self.close()

    def __enter__(self) -> SerialScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def scans_from(self, data: bytes) -> list[ScanResult]:
        """The scans that ``data`` (bytes as read from the port) completes."""
        return [
            make_scan_result(
                decode_line(line),
                format=BarcodeFormat.UNKNOWN,
                source=ScanSource.SERIAL,
                raw_bytes=line,
                classifier=self.classifier,
            )
            for line in self._splitter.feed(data)
        ]

    def _run(self) -> None:
        while not self._stop.is_set():
            port = self._serial
            if port is None:
                return
            try:
                data = port.read(max(1, port.in_waiting))
            except Exception as exc:  # SerialException, OSError, or termios.error on a hung-up port
                self.last_error = f"the scanner at {self.port} went away ({exc})"
                log.warning("%s", self.last_error)
                self.close()
                return
            for result in self.scans_from(data):
                try:
                    self.on_scan(result)
                except Exception:
                    log.exception("the scan handler failed for a serial scan")

    def reading(self) -> bool:
        """Whether the port is open and its reader thread is running."""
        return self._serial is not None and self._thread is not None and self._thread.is_alive()

    def health(self) -> DeviceHealth:
        """Connected while the port is open and reading; missing when the port is not there."""
        if self.reading():
            return connected(DEVICE)
        if self.last_error:
            return missing(DEVICE, self.last_error,
                           "check the scanner's USB cable; the kiosk opens it again by itself within seconds")
        try:
            probe = serial.Serial(self.port, self.baudrate, timeout=0)
        except (serial.SerialException, OSError) as exc:
            return missing(
                DEVICE, f"no scanner at {self.port} ({exc})", "plug in the scanner, or set its port in kiosk.toml"
            )
        probe.close()
        return degraded(DEVICE, f"the scanner at {self.port} is there but not being read", "restart the kiosk")
