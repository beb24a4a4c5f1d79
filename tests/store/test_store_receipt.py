"""Receipt numbers: readable, tolerant to how people type them, and self-checking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_2

from sync.receipt import (
    CHECK_ALPHABET,
    DATA_ALPHABET,
    InvalidReceiptNumber,
    ReceiptNumber,
    check_character,
    is_valid,
)

MODULUS = len(CHECK_ALPHABET)


def _step(state: int, char: str) -> int:
    """One step of the MOD 37-2 checksum: the running state after one more character."""
    return (2 * state + CHECK_ALPHABET.index(char)) % MODULUS


def test_step_matches_stdnum_on_whole_strings() -> None:
    text = "SZ01K7M26112300042"
    state = 0
    for ch in text:
        state = _step(state, ch)
    assert state == mod_37_2.checksum(text, alphabet=CHECK_ALPHABET)


# --- the two promised properties, proved exhaustively ------------------------------------
#
# The checksum is a running state s -> (2s + c) mod 37. Whatever comes before a position
# only decides the state s there, and s can be any of the 37 values. Each step is a
# bijection of the state (2 is invertible mod 37), so two strings whose states differ at
# some point differ at the end. So it suffices to check, for every state s, that a change
# leads to a different state, and for changes that touch the check character, that the
# string no longer ends in state 1 (valid).


def test_every_single_substitution_is_caught_exhaustively() -> None:
    for state in range(MODULUS):
        for a in DATA_ALPHABET:
            for b in DATA_ALPHABET:
                if a != b:
                    assert _step(state, a) != _step(state, b)
        # the check character itself: only one character makes the state valid
        valid = [c for c in CHECK_ALPHABET if _step(state, c) == 1]
        assert len(valid) == 1


def test_every_adjacent_swap_is_caught_exhaustively() -> None:
    for state in range(MODULUS):
        for a in DATA_ALPHABET:
            for b in DATA_ALPHABET:
                if a != b:
                    assert _step(_step(state, a), b) != _step(_step(state, b), a), (state, a, b)


def test_every_swap_of_the_last_character_with_the_check_character_is_caught() -> None:
    for state in range(MODULUS):
        for last in DATA_ALPHABET:
            check = next(c for c in CHECK_ALPHABET if _step(_step(state, last), c) == 1)
            if check == last or check == "*":
                continue  # no change, or '*' lands where only 0-9 is allowed (format error)
            assert _step(_step(state, check), last) != 1, (state, last, check)


def test_hybrid_mod_37_36_would_not_have_caught_every_swap() -> None:
    """Why MOD 37-2 and not MOD 37,36: the hybrid system misses some adjacent swaps."""
    from stdnum.iso7064 import mod_37_36

    misses = [
        (a, b)
        for a in DATA_ALPHABET
        for b in DATA_ALPHABET
        if a != b and mod_37_36.checksum("SZ" + a + b) == mod_37_36.checksum("SZ" + b + a)
    ]
    assert misses


# --- the same, on real receipt numbers ----------------------------------------------------

receipts = st.builds(
    ReceiptNumber.issue,
    st.text(DATA_ALPHABET, min_size=2, max_size=8),
    st.text(DATA_ALPHABET, min_size=3, max_size=3),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.integers(min_value=1, max_value=99_999),
)


@given(receipts, st.data())
def test_a_mistyped_character_is_never_accepted(receipt: ReceiptNumber, data: st.DataObject) -> None:
    compact = receipt.compact
    i = data.draw(st.integers(0, len(compact) - 1))
    replacement = data.draw(st.sampled_from(CHECK_ALPHABET).filter(lambda c: c != compact[i]))
    typo = compact[:i] + replacement + compact[i + 1 :]
    assert not is_valid(typo)


@given(receipts, st.data())
def test_two_swapped_neighbours_are_never_accepted(receipt: ReceiptNumber, data: st.DataObject) -> None:
    compact = receipt.compact
    i = data.draw(st.integers(0, len(compact) - 2))
    if compact[i] == compact[i + 1]:
        return
    swapped = compact[:i] + compact[i + 1] + compact[i] + compact[i + 2 :]
    assert not is_valid(swapped)


@given(receipts)
def test_printed_and_compact_forms_read_back_to_the_same_number(receipt: ReceiptNumber) -> None:
    assert ReceiptNumber.parse(str(receipt)) == receipt
    assert ReceiptNumber.parse(receipt.compact) == receipt
    assert ReceiptNumber.parse(str(receipt).lower()) == receipt
    assert mod_37_2.is_valid(receipt.compact, alphabet=CHECK_ALPHABET)


# --- format and tolerance ---------------------------------------------------------------------


def test_printed_form_has_readable_groups() -> None:
    receipt = ReceiptNumber.issue("SZ01", "K7M", date(2026, 11, 23), 42)
    assert str(receipt) == f"SZ01-K7M-261123-00042-{receipt.check}"
    assert receipt.check == check_character("SZ01K7M26112300042")


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(
    "retype",
    [
        str.lower,
        lambda t: t.replace("-", " "),
        lambda t: t.replace("-", ""),
        lambda t: "  " + t.lower().replace("-", "", 2) + "\n",
        _full_width,  # as a Chinese input method types it
    ],
    ids=["lower", "spaces", "no-dashes", "mixed", "full-width"],
)
def test_parse_tolerates_how_people_type(retype: object) -> None:
    receipt = ReceiptNumber.issue("SZ01", "K7M", date(2026, 11, 23), 42)
    typed = retype(str(receipt))  # type: ignore[operator]
    assert ReceiptNumber.parse(typed) == receipt
    assert ReceiptNumber.validate(typed) == str(receipt)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "not a receipt number"),
        ("SZ01-K7M-261123-0042-X", "not a receipt number"),  # 4-digit sequence
        ("S-K7M-261123-00042-X", "not a receipt number"),  # site code too short
        ("SZ01-K7M-261323-00042-X", "impossible date"),  # month 13
        ("SZ01-K7M-261123-00042-?", "not a receipt number"),
    ],
)
def test_malformed_text_is_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidReceiptNumber, match=why):
        ReceiptNumber.parse(text)


def test_wrong_check_character_says_it_was_mistyped() -> None:
    receipt = ReceiptNumber.issue("SZ01", "K7M", date(2026, 11, 23), 42)
    wrong = next(c for c in DATA_ALPHABET if c != receipt.check)
    with pytest.raises(InvalidReceiptNumber, match="mistyped"):
        ReceiptNumber.parse(str(receipt)[:-1] + wrong)


@pytest.mark.parametrize(
    ("site", "device", "day", "sequence"),
    [
        ("S", "K7M", date(2026, 1, 1), 1),
        ("sz01", "K7M", date(2026, 1, 1), 1),
        ("SZ01", "K7", date(2026, 1, 1), 1),
        ("SZ01", "K7M", date(1999, 12, 31), 1),
        ("SZ01", "K7M", date(2026, 1, 1), 0),
        ("SZ01", "K7M", date(2026, 1, 1), 100_000),
    ],
)
def test_issue_refuses_parts_that_would_not_read_back(
    site: str, device: str, day: date, sequence: int
) -> None:
    with pytest.raises(ValueError):
        ReceiptNumber.issue(site, device, day, sequence)


@given(st.text(max_size=40))
def test_any_text_is_either_a_receipt_or_refused_with_a_reason(text: str) -> None:
    try:
        receipt = ReceiptNumber.parse(text)
    except InvalidReceiptNumber as exc:
        assert str(exc)
    else:
        assert is_valid(str(receipt))
