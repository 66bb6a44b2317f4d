"""The ONE place the reports import the accounting service and period helpers from.

The report code uses a period only through :class:`~kilnwatch.domain.periods.Period`
(``label``, ``start``, ``end``, ``months()``) and the helpers here.
"""

from __future__ import annotations

from kilnwatch.accounting.groups import GroupAccount, group_accounts
from kilnwatch.accounting.inputs import MeterInput
from kilnwatch.accounting.intensity import IntensityRow, PeriodFigures, intensity_rows
from kilnwatch.accounting.units import UnitAccount, unit_accounts
from kilnwatch.domain.periods import Period as ReportPeriod
from kilnwatch.errors import InputError


def same_period_in(period: ReportPeriod, year: int) -> ReportPeriod:
    """The same period of another year (``2025-03`` → ``2024-03``, ``2025-Q1`` → ``2020-Q1``)."""
    if period.kind == "range":
        raise InputError(f"{period.label!r} has no counterpart in {year}", field="period")
    shifted = period
    while shifted.year > year:
        shifted = shifted.previous_year()
    if shifted.year != year:
        raise InputError(f"{period.label!r} has no counterpart in {year}", field="period")
    return shifted


def month_labels(period: ReportPeriod) -> list[str]:
    """The ``YYYY-MM`` labels of the months that ``period`` overlaps (findings and
    credibility scores are kept per month)."""
    return period.months()


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
    "same_period_in",
    "unit_accounts",
]
