"""The camera as a scanner: QtMultimedia frames into ``devices``' pipeline, scans back as a signal.

A thin adapter. QtMultimedia delivers frames on the UI thread through a ``QVideoSink``;
each is converted to a grayscale numpy array and handed to
:class:`devices.pipeline.ScanPipeline`, whose worker thread decodes the latest frame and
drops the rest when busy. A new code comes back as :attr:`CameraScanner.scanned`, a
signal queued onto the UI thread. All decoding policy (formats, dedupe, mojibake repair,
classification) lives in ``devices``; nothing here needs a real camera except
:meth:`CameraScanner.start`.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QCamera, QCameraDevice, QMediaCaptureSession, QMediaDevices, QVideoFrame, QVideoSink

from devices.decoder import Decoder
from devices.health import DeviceHealth, connected, degraded, missing
from devices.pipeline import ScanPipeline
from devices.scan import ScanResult

log = logging.getLogger(__name__)

DEVICE = "camera"


def frame_to_gray(frame: QVideoFrame) -> np.ndarray | None:
    """A video frame as an H x W uint8 array (a copy, so Qt may reuse its buffer); None if invalid."""
    if not frame.isValid():
        return None
    image = frame.toImage()
    if image.isNull():
        return None
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    rows = np.frombuffer(gray.constBits(), dtype=np.uint8, count=stride * height).reshape(height, stride)
    return rows[:, :width].copy()


class CameraScanner(QObject):
    """Scans codes held up to a camera. Emits :attr:`scanned` on the UI thread."""

    scanned = Signal(object)  # a devices.scan.ScanResult

    def __init__(
        self,
        decoder: Decoder,
        *,
        device: QCameraDevice | None = None,
        max_fps: float = 15.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._device = device
        self._min_interval = 1.0 / max_fps if max_fps > 0 else 0.0
        self._last_frame = 0.0
        self._error = ""
        # The pipeline calls back on its worker thread; emitting a signal from there is
        # queued to receivers living on the UI thread.
        self.pipeline = ScanPipeline(decoder, self._emit)
        self.sink = QVideoSink(self)
        self.sink.videoFrameChanged.connect(self.on_frame)
        self._session: QMediaCaptureSession | None = None
        self._camera: QCamera | None = None

    def _emit(self, result: ScanResult) -> None:
        self.scanned.emit(result)

    def on_frame(self, frame: QVideoFrame) -> None:
        """Hand a frame to the pipeline, at most ``max_fps`` a second (the rest are skipped)."""
        now = time.monotonic()
        if now - self._last_frame < self._min_interval:
            return
        self._last_frame = now
        gray = frame_to_gray(frame)
        if gray is not None:
            self.pipeline.submit(gray)

    def start(self) -> None:
        """Open the camera (the given one or the system default) and start scanning."""
        device = self._device or QMediaDevices.defaultVideoInput()
        if device.isNull():
            self._error = "no camera found"
            log.warning("camera scanner: %s", self._error)
            return
        self._camera = QCamera(device, self)
        self._camera.errorOccurred.connect(self._on_error)
        self._session = QMediaCaptureSession(self)
        self._session.setCamera(self._camera)
        self._session.setVideoSink(self.sink)
        self.pipeline.start()
        self._camera.start()

    def stop(self) -> None:
        """Stop the camera and the decoding thread."""
        if self._camera is not None:
            self._camera.stop()
        self.pipeline.stop()

    def _on_error(self, error: QCamera.Error, text: str) -> None:
        self._error = text or str(error)
        log.warning("camera error: %s", self._error)

    def health(self) -> DeviceHealth:
        """Missing without a camera; degraded after a camera error; otherwise connected."""
        if not QMediaDevices.videoInputs():
            return missing(DEVICE, "no camera found", "connect the camera, then restart the kiosk")
        if self._error:
            return degraded(DEVICE, f"camera error: {self._error}", "reconnect the camera, then restart the kiosk")
        return connected(DEVICE)
