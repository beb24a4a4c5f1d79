"""Keyboard-wedge (USB HID) scanners told apart from people typing, by key timing.

A wedge scanner "types" what it reads, as a keyboard: a burst of characters a few
milliseconds apart (2-15 ms on the scanners we measured), ended by Enter or Tab. People
type 80-400 ms apart, and even fast typists rarely keep six keys in a row under 40 ms.
So the rule is: a run of at least ``min_length`` characters whose every gap (including
the one before the terminator) is at most ``max_gap``, ended by a terminator, is a scan.

For a scan never to land in a text field by accident, the kiosk holds keys back until
they are decided: the Qt side feeds every key to :meth:`WedgeDetector.feed` and only
passes on the :class:`TypedKeys` it gets back; a scan comes back as a
:class:`~devices.scan.ScanResult` instead. A person's key is held for at most
``max_gap`` (call :meth:`WedgeDetector.poll` from a timer at :meth:`next_deadline`), which
nobody notices.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from devices.payload import MAX_PAYLOAD_BYTES, classify
from devices.scan import BarcodeFormat, Classifier, ScanResult, ScanSource, make_scan_result

log = logging.getLogger(__name__)

DEFAULT_MAX_GAP = 0.040  # seconds; scanners: 2-15 ms, people: 80-400 ms
DEFAULT_MIN_LENGTH = 6  # shorter bursts are left to the person (our codes are 13+ characters)
DEFAULT_TERMINATORS = frozenset({"\r", "\n", "\t"})


@dataclass(frozen=True)
class TypedKeys:
    """Keys a person typed, released to the focused field in order."""

    text: str


WedgeEvent = TypedKeys | ScanResult


class WedgeDetector:
    """Splits a stream of (character, time) key events into typing and scans.

    Timestamps are seconds from a monotonic clock (Qt's ``QKeyEvent.timestamp()`` / 1000).
    """

    def __init__(
        self,
        *,
        max_gap: float = DEFAULT_MAX_GAP,
        min_length: int = DEFAULT_MIN_LENGTH,
        terminators: frozenset[str] = DEFAULT_TERMINATORS,
        max_length: int = MAX_PAYLOAD_BYTES,
        classifier: Classifier = classify,
    ) -> None:
        if max_gap <= 0 or min_length < 1:
            raise ValueError("max_gap must be positive and min_length at least 1")
        self.max_gap = max_gap
        self.min_length = min_length
        self.terminators = terminators
        self.max_length = max_length
        self.classifier = classifier
        self._held: list[str] = []
        self._last: float | None = None

    @property
    def holding(self) -> bool:
        """Whether keys are held back, waiting to be decided."""
        return bool(self._held)

    def next_deadline(self) -> float | None:
        """When :meth:`poll` should next be called (None: nothing is held)."""
        return None if self._last is None or not self._held else self._last + self.max_gap

    def feed(self, char: str, timestamp: float) -> list[WedgeEvent]:
        """One key (a single character; Enter as ``"\\r"``) at ``timestamp``; what it decided."""
        if len(char) != 1:
            raise ValueError(f"feed() takes one character at a time, not {char!r}")
        events = self.poll(timestamp)
        if char in self.terminators:
            if len(self._held) >= self.min_length:
                text = "".join(self._held)
                scan = make_scan_result(
                    text, format=BarcodeFormat.UNKNOWN, source=ScanSource.WEDGE, classifier=self.classifier
                )
                events.append(scan)
                log.debug("keyboard-wedge scan of %d characters", len(text))
            else:
                events.append(TypedKeys("".join(self._held) + char))
            self._held, self._last = [], None
            return events
        self._held.append(char)
        self._last = timestamp
        if len(self._held) > self.max_length:  # a stuck key or a runaway device: give it back as typing
            events.append(self._release())
        return events

    def poll(self, now: float) -> list[WedgeEvent]:
        """Release held keys as typing once ``max_gap`` has passed without another key."""
        if self._held and self._last is not None and now - self._last > self.max_gap:
            return [self._release()]
        return []

    def _release(self) -> TypedKeys:
        typed = TypedKeys("".join(self._held))
        self._held, self._last = [], None
        return typed
