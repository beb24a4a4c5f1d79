"""The sliding-window limit behind receipt look-ups (kiosk and platform)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.ratelimit import SlidingWindowLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@given(
    limit=st.integers(1, 6),
    window=st.floats(1.0, 100.0),
    gaps=st.lists(st.floats(0.0, 30.0), min_size=1, max_size=60),
)
def test_never_more_than_the_limit_in_any_window_and_never_refused_below_it(
    limit: int, window: float, gaps: list[float]
) -> None:
    clock = Clock()
    rate = SlidingWindowLimit(limit, window, clock=clock)
    allowed: list[float] = []
    for gap in gaps:
        clock.now += gap
        recent = [t for t in allowed if t > clock.now - window]
        wait = rate.attempt("kiosk")
        if wait is None:
            assert len(recent) < limit, "allowed although the window was full"
            allowed.append(clock.now)
        else:
            assert len(recent) == limit, "refused although the window had room"
            # the wait ends exactly when the oldest event in the window leaves it
            assert wait == pytest.approx(min(recent) + window - clock.now)


def test_keys_are_limited_separately_and_refusals_do_not_extend_the_wait() -> None:
    clock = Clock()
    rate = SlidingWindowLimit(2, 60, clock=clock)
    assert rate.attempt("a") is None and rate.attempt("a") is None
    assert rate.attempt("a") == pytest.approx(60)
    assert rate.attempt("b") is None  # another terminal is not affected
    clock.now += 59
    assert rate.attempt("a") == pytest.approx(1)  # hammering did not push it back
    clock.now += 1
    assert rate.attempt("a") is None


@pytest.mark.parametrize(("limit", "window"), [(0, 10), (3, 0), (-1, -1)])
def test_a_limit_that_allows_nothing_is_refused(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="positive window"):
        SlidingWindowLimit(limit, window)
