"""Queue tickets, and expected completion dates counted in working days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from printing import ROLL_80MM
from printing.render_pdf import render_pdf
from printing.ticket import layout_ticket
from printing.workdays import add_working_days, is_working_day
from tests.printing.samples import make_ticket, pdf_text


def test_ticket_shows_number_service_people_ahead_and_time(tmp_path: Path) -> None:
    path = tmp_path / "ticket.pdf"
    path.write_bytes(render_pdf(layout_ticket(make_ticket(is_test=True), ROLL_80MM)))
    text = pdf_text(path)
    assert "A023" in text and "居住证申领" in text and "Residence Permit Application" in text
    assert "您前面还有 5 人" in text and "5 people ahead of you" in text
    assert "2026年11月23日 10:30" in text and "测试票" in text


def test_nobody_ahead_reads_you_are_next(tmp_path: Path) -> None:
    path = tmp_path / "ticket.pdf"
    path.write_bytes(render_pdf(layout_ticket(make_ticket(waiting_ahead=0), ROLL_80MM)))
    assert "您是下一位" in pdf_text(path)


def test_weekends_are_skipped_and_the_submission_day_is_not_counted() -> None:
    assert add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Friday -> Monday
    assert add_working_days(date(2026, 11, 23), 10) == date(2026, 12, 7)
    assert add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)


def test_public_holidays_are_skipped_and_make_up_saturdays_count() -> None:
    assert not is_working_day(date(2026, 10, 5))  # National Day holiday
    assert is_working_day(date(2026, 10, 10))  # Saturday worked in exchange
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)


def test_a_year_without_an_official_calendar_falls_back_to_weekends() -> None:
    assert add_working_days(date(2031, 1, 3), 1) == date(2031, 1, 6)  # Friday -> Monday
