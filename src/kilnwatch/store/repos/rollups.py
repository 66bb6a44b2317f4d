"""Queries over the per-meter rollups (hour, day, month); maintenance is in
:mod:`kilnwatch.store.rollups`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from kilnwatch.identity import Principal
from kilnwatch.store.models import Meter, Rollup
from kilnwatch.store.repos.scope import owned_by_visible_enterprise
from kilnwatch.store.rollups.aggregate import AGG_COLUMNS, Agg, agg_of
from kilnwatch.store.rollups.attribution import HOUR


@dataclass(frozen=True, slots=True)
class MeterTotal:
    """A meter's aggregate over [start, end): ``sum`` is consumption/total, mean = sum/count."""

    meter_id: int
    sum: float
    count: int
    min: float
    max: float
    first_ts: datetime | None
    last_ts: datetime | None
    resets: int
    rollovers: int

    @property
    def mean(self) -> float | None:
        return self.sum / self.count if self.count else None


def meter_totals(
    session: Session,
    meter_ids: Sequence[int] | Select[Any],
    grain: str,
    start: datetime,
    end: datetime,
) -> dict[int, MeterTotal]:
    """Totals per meter over rollup periods of ``grain`` starting in [start, end).

    ``meter_ids`` may be a query of meter ids (a province's thousands of meters as a subquery,
    not as thousands of bound parameters)."""
    ids = meter_ids if isinstance(meter_ids, Select) else list(meter_ids)
    stmt = select(Rollup.meter_id, *AGG_COLUMNS).where(
        Rollup.meter_id.in_(ids),
        Rollup.grain == grain,
        Rollup.period_start >= start,
        Rollup.period_start < end,
    )
    aggs: dict[int, Agg] = {}
    for row in session.execute(stmt):
        aggs.setdefault(row[0], Agg()).merge(agg_of(row[1:]))
    return {m: _total(m, a) for m, a in aggs.items()}


def _total(meter_id: int, a: Agg) -> MeterTotal:
    return MeterTotal(meter_id, a.sum, a.count, a.min, a.max, a.first_ts, a.last_ts,
                      a.resets, a.rollovers)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RollupPoint:
    meter_id: int
    period_start: datetime
    sum: float
    count: int
    min: float
    max: float


def meter_series(
    session: Session, meter_ids: Sequence[int], grain: str, start: datetime, end: datetime
) -> list[RollupPoint]:
    """One point per meter and period of ``grain`` in [start, end), ordered by meter, time."""
    stmt = (
        select(
            Rollup.meter_id, Rollup.period_start, Rollup.sum, Rollup.count, Rollup.min, Rollup.max
        )  # fmt: skip
        .where(Rollup.meter_id.in_(list(meter_ids)), Rollup.grain == grain)
        .where(Rollup.period_start >= start, Rollup.period_start < end)
        .order_by(Rollup.meter_id, Rollup.period_start)
    )
    return [RollupPoint(*row) for row in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class GroupTotal:
    """Sum over meters of one enterprise, carrier and unit of measure."""

    enterprise_id: int
    carrier: str
    unit_of_measure: str
    measurement: str
    sum: float
    count: int


def carrier_totals(
    session: Session,
    grain: str,
    start: datetime,
    end: datetime,
    *,
    principal: Principal | None = None,
    level: str | None = None,
) -> list[GroupTotal]:
    """Per enterprise, carrier and unit: the sum of the per-meter rollups (a query, no raw scan).

    ``level`` (``entry``/``sub_unit``/``equipment``) avoids counting sub-meters twice.
    """
    stmt = (
        select(
            Meter.enterprise_id,
            Meter.carrier,
            Meter.unit_of_measure,
            Meter.measurement,
            func.sum(Rollup.sum),
            func.sum(Rollup.count),
        )  # fmt: skip
        .join(Meter, Meter.id == Rollup.meter_id)
        .where(Rollup.grain == grain, Rollup.period_start >= start, Rollup.period_start < end)
        .group_by(Meter.enterprise_id, Meter.carrier, Meter.unit_of_measure, Meter.measurement)
        .order_by(Meter.enterprise_id, Meter.carrier)
    )
    if principal is not None:
        stmt = stmt.where(owned_by_visible_enterprise(Meter.enterprise_id, principal))
    if level is not None:
        stmt = stmt.where(Meter.level == level)
    return [
        GroupTotal(int(e), c, u, m, float(s), int(n)) for e, c, u, m, s, n in session.execute(stmt)
    ]


def latest_state(session: Session, meter_ids: Sequence[int]) -> dict[int, tuple[datetime, float]]:
    """Last stored (ts, raw value) per meter, read from the newest hourly rollup."""
    if not meter_ids:
        return {}
    latest = (
        select(Rollup.meter_id, func.max(Rollup.period_start).label("start"))
        .where(Rollup.meter_id.in_(list(meter_ids)), Rollup.grain == HOUR)
        .group_by(Rollup.meter_id)
        .subquery()
    )
    stmt = select(Rollup.meter_id, Rollup.last_ts, Rollup.last).join(
        latest,
        and_(Rollup.meter_id == latest.c.meter_id, Rollup.period_start == latest.c.start,
             Rollup.grain == HOUR),
    )  # fmt: skip
    return {int(m): (ts, float(v)) for m, ts, v in session.execute(stmt)}
