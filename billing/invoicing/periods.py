"""Billing periods: calendar months and quarters, as days in the billing time zone (BILLING_TIME_ZONE).

A period is [start, end) of dates; a charge record belongs to the period in which it *starts*, in that zone
(a session starting at 23:30 UTC on 31 May is a June session in Berlin). Periods close on their end day: on
the 1st the previous month closes for monthly customers, and on a quarter's first day (1 Jan, Apr, Jul, Oct)
the previous quarter closes for quarterly ones."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

MONTHLY, QUARTERLY = "monthly", "quarterly"


def billing_zone() -> ZoneInfo:
    return ZoneInfo(settings.BILLING_TIME_ZONE)


def billing_today() -> date:
    return timezone.localdate(timezone.now(), billing_zone())


def day_start(day: date) -> datetime:
    """The moment a billing day begins, aware (compare it with the database's UTC times)."""
    return datetime.combine(day, time(0), tzinfo=billing_zone())


def next_month(first_day: date) -> date:
    return date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)


def previous_month(first_day: date) -> date:
    return date(first_day.year - (first_day.month == 1), (first_day.month - 2) % 12 + 1, 1)


def month_period(month: str) -> tuple[date, date]:
    """'2026-06' -> (2026-06-01, 2026-07-01). ValueError when not YYYY-MM."""
    year, _, number = month.partition("-")
    if len(year) != 4 or len(number) != 2:
        raise ValueError(f"{month!r} is not a month written YYYY-MM")
    start = date(int(year), int(number), 1)
    return start, next_month(start)


def periods_ending(day: date) -> list[tuple[str, date, date]]:
    """The periods that close on `day` (their exclusive end), as (interval, start, end): the previous month
    on a 1st, and also the previous quarter on a quarter's first day. Nothing on other days."""
    if day.day != 1:
        return []
    periods = [(MONTHLY, previous_month(day), day)]
    if day.month in (1, 4, 7, 10):
        start = previous_month(previous_month(previous_month(day)))
        periods.append((QUARTERLY, start, day))
    return periods


def period_interval(start: date, end: date) -> str | None:
    """Which billing interval a period is: a calendar month, a calendar quarter, or neither (None)."""
    if start.day != 1:
        return None
    if end == next_month(start):
        return MONTHLY
    if start.month in (1, 4, 7, 10) and end == next_month(next_month(next_month(start))):
        return QUARTERLY
    return None
