"""The ONE place the reports import the accounting service and period parsing from.

Issue 11 moves ``reports/accounting.py`` and ``reports/intensity.py`` to their own package
and replaces ``reports/periods.parse_period`` by ``kilnwatch.domain.periods.Period``; at merge
only the imports of this module change. The rest of the report code uses a period only through
``label``, ``start`` and ``end`` (aware datetimes, ``[start, end)``) and parses periods here.
"""

from __future__ import annotations

import re
from datetime import datetime

from kilnwatch.errors import InputError
from kilnwatch.reports.accounting import (
    GroupAccount,
    MeterInput,
    UnitAccount,
    group_accounts,
    unit_accounts,
)
from kilnwatch.reports.intensity import IntensityRow, PeriodFigures, intensity_rows
from kilnwatch.reports.periods import Period as ReportPeriod
from kilnwatch.reports.periods import parse_period as _parse_period

_YEAR_PREFIX = re.compile(r"^(\d{4})(.*)$")


def parse_period(text: str, tz: str) -> ReportPeriod:
    """A period label (``2025-03``, ``2025``; quarters, halves and ISO weeks once
    ``domain.periods`` lands) as an aware ``[start, end)`` interval in ``tz``."""
    return _parse_period(text, tz)


def same_period_in(period: ReportPeriod, year: int, tz: str) -> ReportPeriod:
    """The same period of another year (``2025-03`` → ``2024-03``), by its label."""
    m = _YEAR_PREFIX.match(period.label)
    if m is None or ".." in period.label:
        raise InputError(f"{period.label!r} has no counterpart in {year}", field="period")
    return parse_period(f"{year:04d}{m.group(2)}", tz)


def month_labels(period: ReportPeriod, tz: str) -> list[str]:
    """The ``YYYY-MM`` labels of the months that ``period`` overlaps (findings and
    credibility scores are kept per month)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    start = period.start.astimezone(zone)
    end = period.end.astimezone(zone)
    cursor = datetime(start.year, start.month, 1, tzinfo=zone)
    labels = []
    while cursor < end:
        labels.append(f"{cursor:%Y-%m}")
        cursor = datetime(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1, tzinfo=zone)
    return labels


__all__ = [
    "GroupAccount",
    "IntensityRow",
    "MeterInput",
    "PeriodFigures",
    "ReportPeriod",
    "UnitAccount",
    "group_accounts",
    "intensity_rows",
    "month_labels",
    "parse_period",
    "same_period_in",
    "unit_accounts",
]
