"""GB 11643 resident ID numbers: the check character catches what people get wrong."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given
from hypothesis import strategies as st

from forms.idnumber import (
    PROVINCE_CODES,
    age_on,
    birth_date_of,
    check_character,
    is_valid_id_number,
    sex_of,
)

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def reference_check(first17: str) -> str:
    """The check character computed straight from the standard's weight table."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    """Valid ID numbers: a real province, any area, a real birth date, any sequence."""
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    area = draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    birth = draw(st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)))
    seq = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    first17 = f"{province}{area}{birth:%Y%m%d}{seq}"
    return first17 + reference_check(first17)


@given(id_numbers())
def test_check_character_matches_the_standard_table(number: str) -> None:
    assert check_character(number[:17]) == number[17]
    assert is_valid_id_number(number)


@given(id_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_wrong_character_is_caught(number: str, pos: int, char: str) -> None:
    assume(number[pos] != char)
    wrong = number[:pos] + char + number[pos + 1 :]
    assert not is_valid_id_number(wrong)


@given(id_numbers(), st.integers(0, 16))
def test_any_swap_of_two_neighbours_is_caught(number: str, pos: int) -> None:
    assume(number[pos] != number[pos + 1])
    swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :]
    assert not is_valid_id_number(swapped)


@given(id_numbers())
def test_lower_case_x_and_spaces_are_accepted(number: str) -> None:
    typed = f"{number[:6]} {number[6:14]} {number[14:]}".lower()
    assert is_valid_id_number(typed)


@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes(text: str) -> None:
    assert is_valid_id_number(text) in (True, False)


def test_birth_date_sex_and_age_come_from_the_number() -> None:
    number = "11010519491231002X"
    assert birth_date_of(number) == dt.date(1949, 12, 31)
    assert sex_of(number) == "female"  # 17th digit 2 is even
    assert sex_of("440304199001011233") == "male"
    assert age_on(dt.date(1949, 12, 31), dt.date(2026, 12, 30)) == 76
    assert age_on(dt.date(1949, 12, 31), dt.date(2026, 12, 31)) == 77


def test_new_districts_are_not_turned_away() -> None:
    # 310115 (Pudong) is missing from python-stdnum's area list; the card is valid all the same.
    assert is_valid_id_number("310115196608052424")


def test_impossible_birth_dates_and_unknown_provinces_are_refused() -> None:
    first17 = "11010519490231002"  # 31 February
    assert not is_valid_id_number(first17 + reference_check(first17))
    first17 = "99010519491231002"  # no province 99
    assert not is_valid_id_number(first17 + reference_check(first17))
    future = (dt.date.today() + dt.timedelta(days=400)).strftime("%Y%m%d")
    first17 = f"110105{future}002"
    assert not is_valid_id_number(first17 + reference_check(first17))
    assert not is_valid_id_number("110105491231002")  # 15-digit first-generation number
