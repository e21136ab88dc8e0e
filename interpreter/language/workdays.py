"""Working days on the official mainland-China calendar (holidays and make-up workdays).

The calendar comes from the maintained ``chinese-calendar`` package, which follows the
State Council's yearly holiday notices. A date outside the years it knows is an error,
never a guess: a deadline computed on a guessed calendar is a wrong deadline.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import chinese_calendar

from .errors import EvaluationError


def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise EvaluationError(
            f"the holiday calendar does not cover {day.isoformat()}: {exc}"
        ) from None


def add_working_days(start: dt.date, count: Decimal | int) -> dt.date:
    """The date that is the ``count``-th working day after ``start`` (start not counted).

    "3个工作日内" from a request received on ``start`` ends on add_working_days(start, 3).
    """
    remaining = int(count)
    if remaining < 0:
        raise EvaluationError(f"cannot count {remaining} working days")
    day = start
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
