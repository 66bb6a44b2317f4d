"""The periods a page offers, as the one domain period (:class:`~kilnwatch.domain.periods.Period`):
a month, a quarter, a year or year to date (``2025-01..2025-03``). Pages parse ``?period=`` with
:func:`~kilnwatch.domain.periods.parse_period` (any of its forms) and build the picker's
choices here; nothing here is a second period type.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from kilnwatch.web.services.seam import Period

KINDS = ("month", "quarter", "ytd", "year")
"""The picker's kinds; ``ytd`` is a range of months from January."""
Month = tuple[int, int]


def last_month(period: Period) -> Month:
    """(year, month) of the period's last day."""
    last = period.stop - timedelta(days=1)
    return last.year, last.month


def picker_kind(period: Period) -> str:
    """The picker kind of ``period``: its own kind, or ``ytd`` for a range of months from
    January within one year."""
    if (
        period.kind == "range"
        and period.first.month == 1
        and period.first.day == 1
        and period.first.year == last_month(period)[0]
        and period.ends == ("month", "month")
    ):
        return "ytd"
    return period.kind


def period_of_kind(kind: str, month: Month, zone: tzinfo) -> Period:
    """The period of ``kind`` that holds (or, for year to date, ends with) ``month``."""
    y, m = month
    if kind == "ytd":
        return months_between((y, 1), (y, m), zone)
    unit = kind if kind in ("quarter", "year") else "month"
    return Period.containing(unit, date(y, m, 1), zone)  # type: ignore[arg-type]


def months_between(first: Month, last: Month, zone: tzinfo) -> Period:
    """The months ``first`` to ``last``, both included (one month is a ``month`` period)."""
    if first == last:
        return Period.containing("month", date(*first, 1), zone)
    stop = Period.containing("month", date(*last, 1), zone).stop
    return Period("range", date(*first, 1), stop, zone, ("month", "month"))


def trailing_year(period: Period) -> Period:
    """The twelve months ending with the period's last month (trends, class history)."""
    y, m = last_month(period)
    first = (y - 1, m + 1) if m < 12 else (y, 1)
    return months_between(first, (y, m), period.zone)


def in_year(period: Period, year: int) -> Period:
    """The same days of the calendar moved to ``year`` (the 2020 base of a 2025 period).

    29 February becomes 28 February in a common year, as in ``Period.previous_year``."""
    shift = year - period.first.year
    return Period(period.kind, _moved(period.first, shift), _moved(period.stop, shift),
                  period.zone, period.ends)  # fmt: skip


def _moved(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 2, 28)


def choices(newest: Month, current: Period) -> list[tuple[str, str]]:
    """(kind, label) of the four kinds around the month the current period ends with."""
    ending = last_month(current)
    anchor = ending if ending <= newest else newest
    return [(k, period_of_kind(k, anchor, current.zone).label) for k in KINDS]
