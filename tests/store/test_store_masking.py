"""Masked values staff may see: the ends only, never the middle."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.masking import MASK, mask_id_number, mask_mobile, mask_name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳小明", "欧**明"),
        ("买买提·艾力", "买**·*力"),
        ("John Smith", "J*** S****"),
        ("Zhang San", "Z**** S**"),
        ("Mary-Jane O'Neil", "M***-J*** O'N***"),
        ("  张小三 ", "张*三"),
        ("张", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_names_are_masked_like_on_a_government_receipt(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("11010519491231002x", "110105********002X"),
        ("110105491231002", "110105******002"),  # first generation: birth date hidden
        ("E12345678", "E1*****78"),  # passport
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_id_numbers_keep_area_and_last_four(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138 0013 8000", "+86 138 **** 8000"),
        ("8613800138000", "86138****8000"),
        ("12345678", "****5678"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mobile_numbers_keep_prefix_and_last_four(number: str, masked: str) -> None:
    assert mask_mobile(number) == masked


cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@given(st.text(cjk, min_size=3, max_size=12))
def test_a_chinese_name_shows_only_its_first_and_last_character(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert masked[0] == name[0] and masked[-1] == name[-1]
    assert masked[1:-1] == MASK * (len(name) - 2)


@given(st.text(cjk, min_size=1, max_size=12))
def test_a_masked_name_never_reveals_more_than_two_characters(name: str) -> None:
    masked = mask_name(name)
    assert sum(1 for a, b in zip(masked, name, strict=True) if a == b and a != MASK) <= 2


id_numbers = st.text("0123456789", min_size=17, max_size=17).map(lambda s: s + "X")


@given(id_numbers)
def test_an_id_number_keeps_its_length_and_hides_the_birth_date(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert masked[6:14] == MASK * 8  # the birth date YYYYMMDD


@given(st.text("0123456789X", min_size=1, max_size=40))
def test_any_id_like_value_keeps_its_length_and_shows_only_its_ends(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == len(number)
    revealed = [i for i, ch in enumerate(masked) if ch != MASK]
    assert len(revealed) <= 10
    assert all(i < 6 or i >= len(number) - 4 for i in revealed)
    assert masked.count(MASK) >= min(len(number), 4)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mobile_number_hides_its_middle_four(number: str) -> None:
    masked = mask_mobile(number)
    assert len(masked) == 11
    assert masked[3:7] == MASK * 4
    assert masked[:3] == number[:3] and masked[7:] == number[7:]
