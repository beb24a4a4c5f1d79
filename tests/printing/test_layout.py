"""Wrapping and layout: text never leaves its column, whatever it says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from printing import ROLL_58MM, ROLL_80MM
from printing.fonts import SANS, text_width
from printing.layout import TextItem, wrap
from printing.receipt import layout_receipt
from printing.ticket import layout_ticket
from tests.printing.samples import LONG_ADDRESS, make_receipt, make_ticket

WORDS = st.text(alphabet=st.sampled_from(list("居住证明房产单位宿舍（），。、abcdefgXYZ0123456789 -·")), max_size=200)


@given(WORDS, st.floats(min_value=40, max_value=400), st.sampled_from([7.0, 9.5, 14.0, 24.0]))
def test_every_wrapped_line_fits_its_width(text: str, width: float, size: float) -> None:
    for line in wrap(text, SANS, size, width):
        assert text_width(line, SANS, size) <= width + 1e-6


@given(WORDS)
def test_wrapping_loses_no_characters(text: str) -> None:
    lines = wrap(text, SANS, 12, 120)
    assert "".join("".join(lines).split()) == "".join(text.split())


def test_closing_punctuation_never_starts_a_line() -> None:
    lines = wrap("居住证明（房屋租赁合同、房产证明或单位宿舍证明），请携带。", SANS, 12, 100)
    assert len(lines) > 1
    assert not any(line[0] in "，。、）" for line in lines)


def test_a_word_longer_than_the_line_is_broken_between_letters() -> None:
    lines = wrap("A" * 60, SANS, 12, 100)
    assert len(lines) > 1 and "".join(lines) == "A" * 60


def test_every_item_of_receipts_and_tickets_stays_inside_the_printable_width() -> None:
    data = make_receipt(applicant_name="买" + "*" * 58 + "提", where=LONG_ADDRESS, is_test=True)
    docs = [layout_receipt(data, p, reprint=True) for p in (ROLL_80MM, ROLL_58MM)]
    docs += [layout_ticket(make_ticket(ticket_no="A023", waiting_ahead=0), p) for p in (ROLL_80MM, ROLL_58MM)]
    for doc in docs:
        for item in (i for page in doc.pages for i in page.items if isinstance(i, TextItem)):
            assert item.x >= -1e-6
            assert item.x + text_width(item.text, item.font, item.size, item.bold) <= doc.content_width + 1e-6, item
