"""The camera scan pipeline: latest frame only, decoded off the UI thread, each code once.

A camera delivers 30 frames a second; decoding one can take longer than a frame. The
pipeline therefore never queues: it holds a single slot with the newest frame, and a
frame that arrives while another is still waiting replaces it (the older one is dropped
and counted). The worker thread takes whatever is in the slot when it is free, so the
code the citizen holds up *now* is the one decoded, and latency never builds up.

A code held in front of the camera is seen in frame after frame; it is reported once,
and again only after it has been out of sight for ``dedupe_window`` seconds
(:class:`Deduplicator`).

The pipeline knows nothing of Qt: ``kiosk/camera.py`` submits frames and turns
``on_scan`` calls (made on the worker thread) into a queued Qt signal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.decoder import Decoder
from devices.scan import ScanResult

log = logging.getLogger(__name__)

DEFAULT_DEDUPE_WINDOW = 2.0  # seconds a code must be out of sight before it counts again


class Deduplicator:
    """Says whether a code is new, or the same one seen again within the window.

    "Within the window" is measured from the last time the code was *seen*, so a code
    held steadily in view is reported once, however long it is held.
    """

    def __init__(self, window: float = DEFAULT_DEDUPE_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._last_seen: dict[tuple[str, bytes], float] = {}

    def is_new(self, result: ScanResult) -> bool:
        """Record that ``result`` was seen now; True if it was not seen within the window."""
        now = self._clock()
        # forget codes out of sight for longer than the window, so memory stays bounded
        self._last_seen = {k: t for k, t in self._last_seen.items() if now - t <= self.window}
        key = (result.format.value, result.raw_bytes)
        new = key not in self._last_seen
        self._last_seen[key] = now
        return new


@dataclass
class PipelineStats:
    """Counters of what happened to frames, for benchmarks, logs and device health."""

    submitted: int = 0
    decoded: int = 0
    dropped: int = 0
    reported: int = 0
    failed: int = 0


class ScanPipeline:
    """Decodes the latest camera frame on a worker thread and reports each new code once.

    ``on_scan`` is called on the worker thread with each new :class:`ScanResult`.
    Frames handed to :meth:`submit` must not be changed afterwards by the caller.
    """

    def __init__(
        self,
        decoder: Decoder,
        on_scan: Callable[[ScanResult], None],
        *,
        dedupe_window: float = DEFAULT_DEDUPE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.decoder = decoder
        self.on_scan = on_scan
        self.stats = PipelineStats()
        self._dedupe = Deduplicator(dedupe_window, clock)
        self._cond = threading.Condition()
        self._slot: Any = None
        self._busy = False
        self._running = False
        self._thread: threading.Thread | None = None

    # --- the caller's side (the UI thread) -----------------------------------------------

    def submit(self, frame: Any) -> bool:
        """Hand over the newest frame; never blocks. False if it replaced a waiting frame."""
        with self._cond:
            self.stats.submitted += 1
            replaced = self._slot is not None
            if replaced:
                self.stats.dropped += 1
            self._slot = frame
            self._cond.notify()
        return not replaced

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        with self._cond:
            if self._running:
                return
            self._running = True
        self._thread = threading.Thread(target=self._run, name="scan-pipeline", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the worker after the frame it is decoding; a waiting frame is discarded."""
        with self._cond:
            self._running = False
            self._slot = None
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no frame is waiting or being decoded (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._slot is not None or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def __enter__(self) -> ScanPipeline:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- decoding ------------------------------------------------------------------------

    def process(self, frame: Any) -> list[ScanResult]:
        """Decode one frame now, on this thread; report and return only the new codes."""
        try:
            results = self.decoder.decode(frame)
        except Exception:
            # A bad frame must not stop the camera; the next one may be fine.
            self.stats.failed += 1
            log.exception("decoding a frame failed")
            return []
        self.stats.decoded += 1
        new = [r for r in results if self._dedupe.is_new(r)]
        for result in new:
            self.stats.reported += 1
            try:
                self.on_scan(result)
            except Exception:
                log.exception("the scan handler failed for a %s code", result.format.value)
        return new

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and self._running:
                    self._cond.wait()
                if not self._running:
                    return
                frame, self._slot = self._slot, None
                self._busy = True
            try:
                self.process(frame)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
