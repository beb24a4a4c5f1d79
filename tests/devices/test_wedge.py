"""Keyboard-wedge scanners against people: recorded-like timings of both, and properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.payload import PayloadKind
from devices.scan import ScanResult, ScanSource
from devices.wedge import TypedKeys, WedgeDetector, WedgeEvent

RECEIPT = "SZ01-K7M-250601-00042-"


def scanner_timing(text: str, rng: random.Random, start: float = 10.0, gaps: tuple[float, float] = (0.002, 0.015)):
    """(char, time) pairs as a HID scanner sends them: 2-15 ms apart, then Enter."""
    t = start
    events = []
    for char in [*text, "\r"]:
        events.append((char, t))
        t += rng.uniform(*gaps)
    return events


def person_timing(text: str, rng: random.Random, start: float = 10.0):
    """(char, time) pairs as a person types: 80-400 ms apart with jitter, sometimes a rollover."""
    t = start
    events = []
    for char in text:
        events.append((char, t))
        t += rng.uniform(0.08, 0.4) if rng.random() > 0.1 else rng.uniform(0.01, 0.03)  # 10%: rollover
    return events


def run(detector: WedgeDetector, events) -> list[WedgeEvent]:
    out: list[WedgeEvent] = []
    for char, t in events:
        out.extend(detector.feed(char, t))
    if events:
        out.extend(detector.poll(events[-1][1] + 1.0))
    return out


def typed(events: list[WedgeEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TypedKeys))


def scans(events: list[WedgeEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, ScanResult)]


def test_a_scanner_burst_is_a_scan_and_never_reaches_the_field() -> None:
    events = run(WedgeDetector(), scanner_timing("11010519491231002X", random.Random(1)))
    assert scans(events) == ["11010519491231002X"] and typed(events) == ""
    (scan,) = [e for e in events if isinstance(e, ScanResult)]
    assert scan.kind is PayloadKind.ID_NUMBER and scan.source is ScanSource.WEDGE


@pytest.mark.parametrize("seed", range(20))
def test_people_typing_are_never_taken_for_a_scanner(seed: int) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(1, 30))) + "\r"
    events = run(WedgeDetector(), person_timing(text, rng))
    assert scans(events) == [] and typed(events) == text


@pytest.mark.parametrize("seed", range(20))
def test_scans_between_typing_are_separated_cleanly(seed: int) -> None:
    rng = random.Random(seed)
    before = person_timing("张三 ", rng)
    scan = scanner_timing(RECEIPT, rng, start=before[-1][1] + rng.uniform(0.3, 2.0))
    after = person_timing("ok\t", rng, start=scan[-1][1] + rng.uniform(0.3, 2.0))
    events = run(WedgeDetector(), before + scan + after)
    assert scans(events) == [RECEIPT]
    assert typed(events) == "张三 ok\t"


def test_a_short_fast_burst_is_left_to_the_person() -> None:
    events = run(WedgeDetector(), scanner_timing("abc", random.Random(2)))
    assert scans(events) == [] and typed(events) == "abc\r"


def test_a_burst_without_terminator_is_released_as_typing_after_the_gap() -> None:
    detector = WedgeDetector()
    out: list[WedgeEvent] = []
    for char, t in scanner_timing("ABCDEFGH", random.Random(3))[:-1]:
        out.extend(detector.feed(char, t))
    assert out == [] and detector.holding
    deadline = detector.next_deadline()
    assert deadline is not None
    assert detector.poll(deadline - 0.001) == []
    assert detector.poll(deadline + 0.001) == [TypedKeys("ABCDEFGH")]
    assert not detector.holding and detector.next_deadline() is None


def test_a_pause_before_enter_makes_it_typing() -> None:
    events = scanner_timing("ABCDEFGH", random.Random(4))
    char, t = events[-1]
    events[-1] = (char, t + 0.2)  # Enter pressed by hand, 200 ms later
    out = run(WedgeDetector(), events)
    assert scans(out) == [] and typed(out) == "ABCDEFGH\r"


def test_a_slow_scanner_can_be_accommodated() -> None:
    slow = scanner_timing(RECEIPT, random.Random(5), gaps=(0.045, 0.055))
    assert scans(run(WedgeDetector(), slow)) == []
    assert scans(run(WedgeDetector(max_gap=0.06), slow)) == [RECEIPT]


def test_a_stuck_key_is_bounded() -> None:
    detector = WedgeDetector(max_length=100)
    out = [e for i in range(250) for e in detector.feed("x", i * 0.005)]
    assert all(isinstance(e, TypedKeys) for e in out) and len(typed(out)) == 202


def test_feed_takes_single_characters() -> None:
    with pytest.raises(ValueError):
        WedgeDetector().feed("ab", 0.0)


CHARS = st.characters(codec="utf-8", exclude_characters="\r\n\t", exclude_categories=("Cs",))


@given(st.lists(st.tuples(CHARS, st.floats(min_value=0.08, max_value=2.0)), max_size=40))
def test_slow_keys_are_always_typing_and_never_lost(keys: list[tuple[str, float]]) -> None:
    t, events = 0.0, []
    for char, gap in keys:
        t += gap
        events.append((char, t))
    out = run(WedgeDetector(), [*events, ("\r", t + 0.1)])
    assert scans(out) == [] and typed(out) == "".join(c for c, _ in keys) + "\r"


@given(st.text(alphabet=CHARS, min_size=6, max_size=120), st.randoms(use_true_random=False))
def test_fast_bursts_with_a_terminator_are_always_one_scan(text: str, rng: random.Random) -> None:
    t, events = 5.0, []
    for char in [*text, "\n"]:
        events.append((char, t))
        t += rng.uniform(0.0, 0.015)
    out = run(WedgeDetector(), events)
    assert scans(out) == [text] and typed(out) == ""


@given(st.lists(st.tuples(st.sampled_from("ab1\r"), st.floats(min_value=0.0, max_value=0.5)), max_size=80))
def test_every_key_comes_out_exactly_once_in_order(keys: list[tuple[str, float]]) -> None:
    t, events = 0.0, []
    for char, gap in keys:
        t += gap
        events.append((char, t))
    out = run(WedgeDetector(), events)
    # a scan swallows its terminator (here always Enter); everything else is typing
    rebuilt = "".join(e.text if isinstance(e, TypedKeys) else e.text + "\r" for e in out)
    assert rebuilt == "".join(c for c, _ in keys)
