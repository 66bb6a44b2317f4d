"""A production unit's account day by day, from the daily rollups (the input of M&V).

Each day is accounted exactly as a month is (:func:`kilnwatch.accounting.units.unit_account`:
GB/T 2589 energy of the unit's top meters, metered production); a day is *complete* when every
meter of the unit that reports in the period has a rollup that day holding at least half of its
usual number of values (CalTRACK Methods 2.0, 2.2.2.1).

References
----------
.. [1] GB/T 2589-2020, 综合能耗计算通则 (comprehensive energy consumption).
.. [2] CalTRACK Methods 2.0, 2.2.2.1: a day counts when no more than 50 % of its
   high-frequency values are missing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.accounting.units import UnitAccount, unit_account
from kilnwatch.domain.periods import Period
from kilnwatch.reference.registry import load_processes
from kilnwatch.store.models import Meter, ProductionUnit
from kilnwatch.store.repos.rollups import meter_series, meter_totals
from kilnwatch.store.rollups.attribution import HOUR

MIN_VALUES_SHARE = 0.5
"""CalTRACK 2.0, 2.2.2.1: at most half of a day's values missing."""


@dataclass(frozen=True)
class UnitDay:
    """One local day of a unit: its account, its operating hours (hours with metered
    production) and whether every meter reported enough."""

    day: date
    account: UnitAccount
    complete: bool
    running_hours: float


def unit_days(session: Session, unit: ProductionUnit, period: Period) -> list[UnitDay]:
    """The unit's account for every day of ``period`` that has any rollup, in day order."""
    meters = list(session.scalars(select(Meter).where(Meter.unit_id == unit.id)))
    points = meter_series(session, [m.id for m in meters], "day", period.start, period.end)
    totals: dict[date, dict[int, float]] = defaultdict(dict)
    counts: dict[date, dict[int, int]] = defaultdict(dict)
    per_meter: dict[int, list[int]] = defaultdict(list)
    for p in points:
        day = p.period_start.astimezone(period.zone).date()
        totals[day][p.meter_id] = p.sum
        counts[day][p.meter_id] = p.count
        per_meter[p.meter_id].append(p.count)
    usual = {m: sorted(c)[len(c) // 2] for m, c in per_meter.items()}
    hours = _running_hours(session, meters, unit, period)
    result = []
    for day in sorted(totals):
        account = unit_account(
            unit, meters, totals[day], counts[day], Period.of_days(day, day, period.zone)
        )
        complete = all(
            counts[day].get(m, 0) >= MIN_VALUES_SHARE * n for m, n in usual.items()
        ) and (account.energy_tce is not None and account.production is not None)
        result.append(UnitDay(day, account, complete, hours.get(day, 0.0)))
    return result


def _running_hours(
    session: Session, meters: list[Meter], unit: ProductionUnit, period: Period
) -> dict[date, float]:
    """Hours per local day whose hourly product rollup is positive."""
    product = f"product:{load_processes()[unit.process].product}"
    ids = [m.id for m in meters if m.carrier == product]
    result: dict[date, float] = defaultdict(float)
    for p in meter_series(session, ids, HOUR, period.start, period.end):
        if p.sum > 0:
            result[p.period_start.astimezone(period.zone).date()] += 1.0 / max(len(ids), 1)
    return result


def period_account(session: Session, unit: ProductionUnit, period: Period) -> UnitAccount:
    """The unit's account over any range of days, from the daily rollups (a month account
    needs whole months; a retrofit's reporting period starts on any day)."""
    meters = list(session.scalars(select(Meter).where(Meter.unit_id == unit.id)))
    raw = meter_totals(session, [m.id for m in meters], "day", period.start, period.end)
    totals = {k: v.sum for k, v in raw.items()}
    counts = {k: v.count for k, v in raw.items()}
    return unit_account(unit, meters, totals, counts, period)


__all__ = ["MIN_VALUES_SHARE", "UnitDay", "period_account", "unit_days"]
