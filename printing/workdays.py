"""Working days (工作日) for time limits printed on receipts.

Service guides give time limits in working days. A working day is Monday to Friday, except
China's public holidays, plus the weekend days that the State Council declares make-up
working days (调休上班). Holidays come from the ``chinesecalendar`` package, which carries
each year's official arrangement (it is published every November for the next year, so
update the package once a year). For a year the package does not know yet, only weekends
are skipped, and a warning is logged once per year: the date may then come out a few days
early around a holiday, which the receipt's "subject to notice" line covers.

The day of submission is not counted: "10 working days" from a Monday submission ends on
the Monday two weeks later (the first working day after the submission is day 1).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)

_warned_years: set[int] = set()


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "No official holiday calendar for %d (update the chinesecalendar package); "
                "counting only weekends as days off",
                day.year,
            )
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself is not counted).

    ``days == 0`` gives ``start``.

    Raises:
        ValueError: ``days`` is negative.
    """
    if days < 0:
        raise ValueError(f"days must be 0 or more, got {days}")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current
