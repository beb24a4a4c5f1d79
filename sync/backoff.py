"""When to try again after a retryable failure: exponential backoff with full jitter.

The n-th retry waits a random time between zero and ``min(cap, base * 2**(n-1))`` ("full
jitter"), so a hall full of terminals coming back after an outage does not knock on the
central platform in lock-step. When the platform said how long to wait (``Retry-After``,
either delay-seconds or an HTTP-date, RFC 9110 §10.2.3), that wait is honoured as a floor:
we never come back earlier than asked, but never later than ``max_retry_after`` either, so a
misconfigured server cannot park a terminal for days.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackoffPolicy:
    """How long to wait before retry number ``attempt`` (1 = the first retry).

    Attributes:
        base: the ceiling of the first wait, in seconds.
        cap: the largest ceiling any wait may have, in seconds.
        max_retry_after: the longest server-requested wait we honour, in seconds.
    """

    base: float = 2.0
    cap: float = 300.0
    max_retry_after: float = 3600.0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap <= 0 or self.max_retry_after < 0:
            raise ValueError("backoff base and cap must be positive, max_retry_after >= 0")
        if self.base > self.cap:
            raise ValueError(f"backoff base {self.base} is larger than its cap {self.cap}")

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the wait before retry ``attempt`` (before jitter)."""
        if attempt < 1:
            attempt = 1
        # Compare exponents instead of computing 2**attempt so huge attempts do not overflow.
        if attempt - 1 >= 63:
            return self.cap
        return min(self.cap, self.base * (2 ** (attempt - 1)))

    def delay(
        self,
        attempt: int,
        *,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> float:
        """Seconds to wait before retry ``attempt``.

        Args:
            attempt: 1 for the first retry, 2 for the second, and so on.
            retry_after: seconds the server asked us to wait, if it said so.
            rng: a random source (tests pass a seeded one); default the module's.
        """
        jitter = (rng or random).uniform(0.0, self.ceiling(attempt))
        if retry_after is None:
            return jitter
        floor = min(max(retry_after, 0.0), self.max_retry_after)
        return max(jitter, floor)


DEFAULT_POLICY = BackoffPolicy()


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value, or None if unusable.

    Accepts delay-seconds (``"120"``) and an HTTP-date (``"Wed, 21 Oct 2015 07:28:00 GMT"``);
    a date in the past means "now" (0 seconds). Anything else is ignored (None) rather than
    trusted: the header comes from the network.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        # Bounded to keep arithmetic sane; policies clamp it further.
        return float(min(int(text[:12]), 10**9))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        log.debug("Ignoring an unusable Retry-After header")
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # HTTP-dates are always GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
