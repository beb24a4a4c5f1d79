"""The camera pipeline: latest frame only, each code reported once, decoding never blocks the caller."""

from __future__ import annotations

import random
import threading

import numpy as np

from devices.decoder import Decoder, ZxingDecoder
from devices.pipeline import ScanPipeline
from devices.scan import BarcodeFormat, ScanResult
from tests.devices.codes import camera_frame, qr_image


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class LabelDecoder(Decoder):
    """Reads a frame's first pixel as the code 'code-<value>' (0: no code); may block or fail."""

    name = "label"
    supported_formats = frozenset({BarcodeFormat.QR})

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()
        self.seen: list[int] = []

    def _decode(self, gray: np.ndarray) -> list[tuple[BarcodeFormat, str, bytes]]:
        value = int(gray[0, 0])
        self.seen.append(value)
        self.started.set()
        self.gate.wait(5)
        if value == 255:
            raise RuntimeError("a broken frame")
        return [(BarcodeFormat.QR, f"code-{value}", f"code-{value}".encode())] if value else []


def frame(value: int) -> np.ndarray:
    return np.full((2, 2), value, np.uint8)


def test_a_code_held_in_view_is_reported_once_and_again_after_it_left() -> None:
    clock = FakeClock()
    reported: list[str] = []
    pipeline = ScanPipeline(LabelDecoder(), lambda r: reported.append(r.text), dedupe_window=2.0, clock=clock)
    for _ in range(100):  # ten seconds at 10 fps, the same code in every frame
        pipeline.process(frame(7))
        clock.now += 0.1
    assert reported == ["code-7"]
    clock.now += 1.5  # away for less than the window: still the same scan
    pipeline.process(frame(7))
    assert reported == ["code-7"]
    for _ in range(25):  # away for 2.5 s, then shown again: a new scan
        pipeline.process(frame(0))
        clock.now += 0.1
    pipeline.process(frame(7))
    assert reported == ["code-7", "code-7"]


def test_a_different_code_is_reported_at_once() -> None:
    reported: list[str] = []
    pipeline = ScanPipeline(LabelDecoder(), lambda r: reported.append(r.text), clock=FakeClock())
    for value in (1, 2, 1, 3):
        pipeline.process(frame(value))
    assert reported == ["code-1", "code-2", "code-3"]


def test_frames_arriving_while_decoding_are_dropped_not_queued() -> None:
    decoder = LabelDecoder()
    reported: list[str] = []
    with ScanPipeline(decoder, lambda r: reported.append(r.text)) as pipeline:
        decoder.gate.clear()
        assert pipeline.submit(frame(1))
        assert decoder.started.wait(5)  # the worker is now stuck decoding frame 1
        results = [pipeline.submit(frame(v)) for v in (2, 3, 4)]
        assert results == [True, False, False]  # 2 waited in the slot; 3 and 4 each replaced it
        decoder.gate.set()
        assert pipeline.wait_idle()
    assert decoder.seen == [1, 4]
    assert reported == ["code-1", "code-4"]
    assert (pipeline.stats.submitted, pipeline.stats.decoded, pipeline.stats.dropped) == (4, 2, 2)


def test_submit_never_blocks_while_the_decoder_is_busy() -> None:
    decoder = LabelDecoder()
    with ScanPipeline(decoder, lambda r: None) as pipeline:
        decoder.gate.clear()
        pipeline.submit(frame(1))
        decoder.started.wait(5)
        for value in range(2, 200):  # would hang here if submit waited for the worker
            pipeline.submit(frame(value))
        decoder.gate.set()
        assert pipeline.wait_idle()
    assert pipeline.stats.dropped == 197


def test_a_broken_frame_or_handler_does_not_stop_the_camera() -> None:
    reported: list[str] = []

    def handler(result: ScanResult) -> None:
        if result.text == "code-5":
            raise ValueError("the screen was busy")
        reported.append(result.text)

    decoder = LabelDecoder()
    with ScanPipeline(decoder, handler) as pipeline:
        for value in (255, 5, 6):
            pipeline.submit(frame(value))
            assert pipeline.wait_idle()
        pipeline.submit("not a frame")
        assert pipeline.wait_idle()
        pipeline.submit(frame(8))
        assert pipeline.wait_idle()
    assert reported == ["code-6", "code-8"]
    assert pipeline.stats.failed == 2


def test_real_frames_through_the_pipeline_with_zxing() -> None:
    rng = random.Random(3)
    frames = [camera_frame(qr_image("居住证申领", scale=5), rng=rng, noise=4) for _ in range(5)]
    reported: list[ScanResult] = []
    with ScanPipeline(ZxingDecoder([BarcodeFormat.QR]), reported.append) as pipeline:
        for f in frames:
            pipeline.submit(f)
            assert pipeline.wait_idle()
    assert [r.text for r in reported] == ["居住证申领"]
    assert pipeline.stats.decoded == 5


def test_stop_is_prompt_and_idempotent() -> None:
    pipeline = ScanPipeline(LabelDecoder(), lambda r: None)
    pipeline.start()
    pipeline.start()
    pipeline.stop()
    pipeline.stop()
    assert pipeline.submit(frame(1))  # accepted but nobody decodes it: no error, no hang
