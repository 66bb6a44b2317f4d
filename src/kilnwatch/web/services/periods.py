"""Periods a page can show: a month (``2025-03``), a quarter (``2025-Q1``), a year
(``2025``) or a range of months (``2025-01..2025-03``, used for year to date), as aware
[start, end) intervals in the deployment's zone. Parsed once, at the edge (the page handler).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from kilnwatch.errors import InputError
from kilnwatch.web.services.seam import Period, parse_period

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4})-(\d{2})\.\.(\d{4})-(\d{2})$")
KINDS = ("month", "quarter", "ytd", "year")


def _month_start(year: int, month: int, zone: ZoneInfo) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=zone)


@dataclass(frozen=True)
class PagePeriod:
    """A whole number of months: ``first`` (year, month) to ``last`` inclusive."""

    kind: str
    first: tuple[int, int]
    last: tuple[int, int]
    tz: str

    @property
    def label(self) -> str:
        (y0, m0), (y1, m1) = self.first, self.last
        if self.kind == "month":
            return f"{y0}-{m0:02d}"
        if self.kind == "quarter":
            return f"{y0}-Q{(m0 - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{y0}"
        return f"{y0}-{m0:02d}..{y1}-{m1:02d}"

    @property
    def start(self) -> datetime:
        return _month_start(*self.first, ZoneInfo(self.tz))

    @property
    def end(self) -> datetime:
        y, m = self.last
        return _month_start(y, m + 1, ZoneInfo(self.tz))

    @property
    def year(self) -> int:
        return self.first[0]

    def months(self) -> list[str]:
        (y, m), out = self.first, []
        while (y, m) <= self.last:
            out.append(f"{y}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def shifted_years(self, years: int) -> PagePeriod:
        (y0, m0), (y1, m1) = self.first, self.last
        return PagePeriod(self.kind, (y0 + years, m0), (y1 + years, m1), self.tz)

    def same_months_of(self, year: int) -> PagePeriod:
        return self.shifted_years(year - self.first[0])

    def as_period(self) -> Period:
        """The accounting package's period type over the same interval."""
        return parse_period(self.label, ZoneInfo(self.tz))


def parse_page_period(text: str, tz: str) -> PagePeriod:
    """Parse ``YYYY-MM``, ``YYYY-Qn``, ``YYYY`` or ``YYYY-MM..YYYY-MM``."""
    text = text.strip()
    if m := _MONTH.match(text):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return PagePeriod("month", (y, mo), (y, mo), tz)
    elif m := _QUARTER.match(text):
        y, q = int(m[1]), int(m[2])
        return PagePeriod("quarter", (y, 3 * q - 2), (y, 3 * q), tz)
    elif m := _YEAR.match(text):
        return PagePeriod("year", (int(m[1]), 1), (int(m[1]), 12), tz)
    elif m := _RANGE.match(text):
        first, last = (int(m[1]), int(m[2])), (int(m[3]), int(m[4]))
        if 1 <= first[1] <= 12 and 1 <= last[1] <= 12 and first <= last:
            return PagePeriod("ytd" if first[1] == 1 and first[0] == last[0] else "range",
                              first, last, tz)  # fmt: skip
    raise InputError(
        f"{text!r} is not a period (YYYY-MM, YYYY-Qn, YYYY or YYYY-MM..YYYY-MM)", field="period"
    )


def period_of_kind(kind: str, month: tuple[int, int], tz: str) -> PagePeriod:
    """The period of ``kind`` that holds (or, for year to date, ends with) ``month``."""
    y, m = month
    if kind == "quarter":
        q0 = 3 * ((m - 1) // 3) + 1
        return PagePeriod("quarter", (y, q0), (y, q0 + 2), tz)
    if kind == "year":
        return PagePeriod("year", (y, 1), (y, 12), tz)
    if kind == "ytd":
        return PagePeriod("ytd", (y, 1), (y, m), tz)
    return PagePeriod("month", (y, m), (y, m), tz)


def choices(newest: tuple[int, int], current: PagePeriod) -> list[tuple[str, str]]:
    """(kind, label) of the four kinds around the month the current period ends with."""
    anchor = current.last if current.last <= newest else newest
    return [(k, period_of_kind(k, anchor, current.tz).label) for k in KINDS]
