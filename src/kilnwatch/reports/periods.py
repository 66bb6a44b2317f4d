"""Reporting periods: a month (``2025-03``) or a year (``2025``) in the platform's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from kilnwatch.errors import InputError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86_400

    @property
    def year(self) -> int:
        return self.start.year


def parse_period(text: str, tz: str = "Asia/Shanghai") -> Period:
    """``YYYY-MM`` or ``YYYY`` as an aware [start, end) interval in ``tz``."""
    zone = ZoneInfo(tz)
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise InputError(f"{text!r} has no month {month}", field="period")
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        return Period(text, start, end)
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return Period(
            text, datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
        )
    raise InputError(f"{text!r} is not a period (YYYY-MM or YYYY)", field="period")
