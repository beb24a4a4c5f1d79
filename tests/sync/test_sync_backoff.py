"""Backoff waits grow, stay bounded, are jittered and honour Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.backoff import BackoffPolicy, parse_retry_after

policies = st.builds(
    lambda base, factor, max_ra: BackoffPolicy(base=base, cap=base * factor, max_retry_after=max_ra),
    st.floats(0.01, 60),
    st.floats(1, 1000),
    st.floats(0, 86400),
)


@given(policies, st.integers(-5, 10_000), st.integers(0, 2**32))
def test_wait_is_never_negative_and_never_above_the_cap(
    policy: BackoffPolicy, attempt: int, seed: int
) -> None:
    wait = policy.delay(attempt, rng=random.Random(seed))
    assert 0 <= wait <= policy.cap


@given(policies, st.integers(1, 200))
def test_ceiling_doubles_until_the_cap(policy: BackoffPolicy, attempt: int) -> None:
    assert policy.ceiling(attempt + 1) == min(policy.cap, 2 * policy.ceiling(attempt))
    assert policy.ceiling(attempt) <= policy.cap


@given(policies, st.integers(1, 100), st.floats(0, 10**7), st.integers(0, 2**32))
def test_retry_after_is_a_floor_up_to_its_limit(
    policy: BackoffPolicy, attempt: int, retry_after: float, seed: int
) -> None:
    wait = policy.delay(attempt, retry_after=retry_after, rng=random.Random(seed))
    assert wait >= min(retry_after, policy.max_retry_after)
    assert wait <= max(policy.cap, min(retry_after, policy.max_retry_after))


def test_full_jitter_spreads_waits_over_the_whole_range() -> None:
    policy = BackoffPolicy(base=1, cap=100)
    rng = random.Random(1)
    waits = [policy.delay(5, rng=rng) for _ in range(2000)]  # ceiling 16
    assert min(waits) < 1.6 and max(waits) > 14.4
    assert sum(waits) / len(waits) == pytest.approx(8, rel=0.1)


@given(st.integers(0, 10**9))
def test_retry_after_seconds_are_read_as_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == seconds


@given(st.integers(0, 10**6))
def test_retry_after_http_date_is_read_relative_to_now(offset: int) -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=offset), usegmt=True)
    assert parse_retry_after(header, now=now) == offset


def test_retry_after_date_in_the_past_means_now() -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0


@pytest.mark.parametrize("value", [None, "", "  ", "-5", "1.5", "soon", "١٢", "Wed, 99 Foo"])
def test_unusable_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value) is None


@given(st.text(max_size=60))
def test_any_header_text_parses_or_is_ignored_without_raising(value: str) -> None:
    result = parse_retry_after(value)
    assert result is None or result >= 0


def test_policy_refuses_a_base_above_its_cap() -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(base=10, cap=5)
