"""The QtMultimedia camera adapter: frames in, a queued `scanned` signal out (no real camera)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QVideoFrame

from devices.decoder import ZxingDecoder
from devices.health import HealthState
from devices.scan import BarcodeFormat
from kiosk.camera import CameraScanner, frame_to_gray
from tests.devices.codes import qr_image

# QtMultimedia loading its FFmpeg backend on a machine without VA-API: harmless, not ours.
pytestmark = pytest.mark.qt_log_ignore(
    r".*RHI.*", r".*FFmpeg.*", r".*CPU conversion.*", r"Couldn.t (load|resolve) va.*"
)


def video_frame(gray: np.ndarray) -> QVideoFrame:
    height, width = gray.shape
    image = QImage(gray.tobytes(), width, height, width, QImage.Format.Format_Grayscale8).convertToFormat(
        QImage.Format.Format_RGB32
    )
    return QVideoFrame(image)


def test_frames_become_gray_arrays() -> None:
    gray = np.asarray(qr_image("办", scale=3))[:, :-3]  # an odd width, so rows are padded in Qt
    assert np.array_equal(frame_to_gray(video_frame(gray)), gray)
    assert frame_to_gray(QVideoFrame()) is None


def test_a_code_in_a_camera_frame_arrives_as_a_signal_on_the_ui_thread(qtbot) -> None:
    scanner = CameraScanner(ZxingDecoder([BarcodeFormat.QR]), max_fps=0)
    scanner.pipeline.start()
    try:
        frame = video_frame(np.asarray(qr_image("居住证申领")))
        with qtbot.waitSignal(scanner.scanned, timeout=5000) as blocker:
            scanner.on_frame(frame)
        assert blocker.args[0].text == "居住证申领"
    finally:
        scanner.stop()


def test_without_a_camera_health_says_missing() -> None:
    scanner = CameraScanner(ZxingDecoder([BarcodeFormat.QR]))
    scanner.start()  # no camera on a test machine: logs and stays idle
    assert scanner.health().state is HealthState.MISSING
    scanner.stop()
