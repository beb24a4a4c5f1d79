"""A sliding-window limit on how often something may happen, per key.

Used where one answer is harmless but many in a row are not: a receipt number is short and
its sequence part counts up, so whoever can ask "what is the status of receipt N?" without
limit can walk a day's receipts. The kiosk limits look-ups at the screen (this covers its
offline cache too) and the central platform limits them per terminal (this covers a
stolen device token). Both use :class:`SlidingWindowLimit`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable


class SlidingWindowLimit:
    """At most ``limit`` events per ``window`` seconds for each key; thread-safe.

    Memory is bounded by the number of keys times ``limit``: a refused attempt is not
    recorded, so hammering a limit does not extend it.
    """

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"a limit needs at least one event in a positive window, not {limit} per {window}s")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def attempt(self, key: Hashable) -> float | None:
        """Record one event for ``key`` if the limit allows it and return None; otherwise
        record nothing and return the seconds until the next event will be allowed."""
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(events[0] + self.window - now, 0.0)
            events.append(now)
            return None
