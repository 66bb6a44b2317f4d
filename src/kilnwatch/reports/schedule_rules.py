"""When a scheduled report is due and which period it covers (pure; local time).

* ``weekly``: due every week on ISO ``weekday`` (1 = Monday) at ``time_of_day``; covers the
  previous complete ISO week (``2025-W10``: Monday to Sunday before the due week).
* ``monthly``: due every month on ``day_of_month`` (1–28, so every month has it) at
  ``time_of_day``; covers the previous complete month (``2025-03``).

A schedule is never due before it was created: the first occurrence is the first one at or
after ``created_at``, so a report never arrives "early" for a period the user did not wait for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kilnwatch.domain.periods import Period, Unit
from kilnwatch.errors import InputError

RULES = ("weekly", "monthly")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_DAY_OF_MONTH = 28


@dataclass(frozen=True)
class Rule:
    rule: str
    time_of_day: str
    weekday: int = 1
    day_of_month: int = 1

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise InputError(f"rule {self.rule!r}: use weekly or monthly", field="rule")
        if not _HHMM.match(self.time_of_day):
            raise InputError(f"time {self.time_of_day!r} is not HH:MM", field="time_of_day")
        if not 1 <= self.weekday <= 7:
            raise InputError("weekday is 1 (Monday) .. 7 (Sunday)", field="weekday")
        if not 1 <= self.day_of_month <= MAX_DAY_OF_MONTH:
            raise InputError(f"day_of_month is 1 .. {MAX_DAY_OF_MONTH}", field="day_of_month")

    @property
    def clock(self) -> time:
        hh, mm = self.time_of_day.split(":")
        return time(int(hh), int(mm))


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


def _month_day(year: int, month: int, day: int) -> date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, day)


def latest_occurrence(rule: Rule, now: datetime, tz: str) -> datetime:
    """The last due instant at or before ``now`` (aware, in ``tz``)."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    if rule.rule == "weekly":
        day = local.date() - timedelta(days=(local.isoweekday() - rule.weekday) % 7)
        due = _at(day, rule.clock, zone)
        return due if due <= local else due - timedelta(days=7)
    due = _at(_month_day(local.year, local.month, rule.day_of_month), rule.clock, zone)
    if due <= local:
        return due
    return _at(_month_day(local.year, local.month - 1, rule.day_of_month), rule.clock, zone)


def next_occurrence(rule: Rule, after: datetime, tz: str) -> datetime:
    """The first due instant strictly after ``after``."""
    zone = ZoneInfo(tz)
    last = latest_occurrence(rule, after, tz)
    if rule.rule == "weekly":
        return last + timedelta(days=7)
    local = last.astimezone(zone)
    return _at(_month_day(local.year, local.month + 1, rule.day_of_month), rule.clock, zone)


def period_for(rule: Rule, due: datetime, tz: str) -> Period:
    """The previous complete period at ``due``: the ISO week or the month before it."""
    zone = ZoneInfo(tz)
    unit: Unit = "week" if rule.rule == "weekly" else "month"
    current = Period.containing(unit, due.astimezone(zone).date(), zone)
    return Period.containing(unit, current.first - timedelta(days=1), zone)


def due_occurrence(rule: Rule, created_at: datetime, now: datetime, tz: str) -> datetime | None:
    """The occurrence to generate at ``now``: the latest one, if not before the schedule
    existed; None when nothing is due yet."""
    due = latest_occurrence(rule, now, tz)
    return due if due >= created_at else None


__all__ = [
    "RULES",
    "Rule",
    "due_occurrence",
    "latest_occurrence",
    "next_occurrence",
    "period_for",
]
