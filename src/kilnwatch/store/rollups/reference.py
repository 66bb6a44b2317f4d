"""The row-by-row recompute: the reference the set-based SQL recompute is tested against.

:func:`refresh_rollups_python` recomputes the touched hours from the raw readings with
:func:`~kilnwatch.store.rollups.aggregate.hourly_aggregates`, then days from hours and
months from days with :meth:`Agg.merge <kilnwatch.store.rollups.aggregate.Agg.merge>`;
``tests/store/rollups/`` checks that
:func:`kilnwatch.store.rollups.recompute.refresh_rollup_ranges` and the append path give the
same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import Session

from kilnwatch.store.models import Reading, Rollup
from kilnwatch.store.rollups.aggregate import (
    AGG_COLUMNS,
    ROLLUP_COLUMNS,
    Agg,
    agg_of,
    hourly_aggregates,
    rollup_values,
)
from kilnwatch.store.rollups.attribution import (
    COARSER,
    HOUR,
    CounterPolicy,
    attribution_offset,
    covering_periods,
    period_start,
    touched_hours,
)


def refresh_rollups_python(
    session: Session,
    changed: Mapping[int, Sequence[datetime]],
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy | None = None,
) -> None:
    """Recompute the rollups touched by readings written at ``changed[meter_id]`` times,
    row by row (the reference of
    :func:`~kilnwatch.store.rollups.recompute.refresh_rollup_ranges`).
    """
    policy = policy or CounterPolicy()
    groups: dict[tuple[datetime, datetime, timedelta], list[int]] = defaultdict(list)
    for meter_id, times in changed.items():
        if times:
            kind = measurements.get(meter_id, "instant")
            lo, hi = touched_hours(min(times), max(times), kind)
            groups[(lo, hi, attribution_offset(kind))].append(meter_id)
    for (lo, hi, shift), meter_ids in groups.items():
        end = _extended_end(session, meter_ids, measurements, hi)
        _refresh_hours(session, meter_ids, measurements, lo, end, shift, policy)
        for finer, grain in COARSER:
            _refresh_coarse(session, meter_ids, finer, grain, lo, end, tz)


def _extended_end(
    session: Session, meter_ids: list[int], measurements: Mapping[int, str], end: datetime
) -> datetime:
    """Include the hour of the next later reading of counter meters (its delta changed).

    Counter hours are ``(start, end]``: the next reading after the touched hours is the first
    one later than ``end``.
    """
    counters = [m for m in meter_ids if measurements.get(m) == "counter"]
    if not counters:
        return end
    stmt = (
        select(func.min(Reading.ts))
        .where(Reading.meter_id.in_(counters), Reading.ts > end)
        .group_by(Reading.meter_id)
    )
    later = [ts for ts in session.scalars(stmt) if ts is not None]
    if not later:
        return end
    return max(end, touched_hours(max(later), max(later), "counter")[1])


def _previous_values(session: Session, meter_ids: list[int], before: datetime) -> dict[int, float]:
    """Last raw value before ``before`` per meter, from the hourly rollups."""
    latest = (
        select(Rollup.meter_id, func.max(Rollup.period_start).label("start"))
        .where(Rollup.meter_id.in_(meter_ids), Rollup.grain == HOUR)
        .where(Rollup.period_start < before)
        .group_by(Rollup.meter_id)
        .subquery()
    )
    stmt = select(Rollup.meter_id, Rollup.last).join(
        latest,
        and_(
            Rollup.meter_id == latest.c.meter_id,
            Rollup.period_start == latest.c.start,
            Rollup.grain == HOUR,
        ),
    )
    return {int(m): float(v) for m, v in session.execute(stmt)}


def _latest_values(
    session: Session, meter_ids: list[int], start: datetime, end: datetime, shift: timedelta
) -> dict[int, list[tuple[datetime, float]]]:
    """Readings with ``ts - shift`` in [start, end) per meter, latest version per ts, in order."""
    lo, hi = start + shift, end + shift
    stmt = (
        select(Reading.meter_id, Reading.ts, Reading.value)
        .where(Reading.meter_id.in_(meter_ids), Reading.ts >= lo, Reading.ts < hi)
        .order_by(Reading.meter_id, Reading.ts, Reading.version)
    )
    series: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for meter_id, ts, value in session.execute(stmt):
        rows = series[meter_id]
        if rows and rows[-1][0] == ts:
            rows[-1] = (ts, value)
        else:
            rows.append((ts, value))
    return series


def _refresh_hours(
    session: Session,
    meter_ids: list[int],
    measurements: Mapping[int, str],
    start: datetime,
    end: datetime,
    shift: timedelta,
    policy: CounterPolicy,
) -> None:
    previous = _previous_values(session, meter_ids, start)
    series = _latest_values(session, meter_ids, start, end, shift)
    rows: list[dict[str, Any]] = []
    for meter_id in meter_ids:
        hours = hourly_aggregates(
            series.get(meter_id, []), measurements.get(meter_id, "instant"),
            previous.get(meter_id), policy,
        )  # fmt: skip
        rows.extend(_row(meter_id, HOUR, h, a) for h, a in hours.items())
    _replace(session, meter_ids, HOUR, start, end, rows)


def _row(meter_id: int, grain: str, start: datetime, a: Agg) -> dict[str, Any]:
    return dict(zip(ROLLUP_COLUMNS, rollup_values(meter_id, grain, start, a), strict=True))


def _replace(
    session: Session,
    meter_ids: list[int],
    grain: str,
    start: datetime,
    end: datetime,
    rows: list[dict[str, Any]],
) -> None:
    session.execute(
        delete(Rollup).where(
            Rollup.meter_id.in_(meter_ids),
            Rollup.grain == grain,
            Rollup.period_start >= start,
            Rollup.period_start < end,
        )
    )
    if rows:
        session.execute(insert(Rollup), rows)


def _refresh_coarse(
    session: Session,
    meter_ids: list[int],
    finer: str,
    grain: str,
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> None:
    """Recompute ``grain`` periods overlapping [start, end) from the ``finer`` rows."""
    lo, hi = covering_periods(start, end, grain, tz)
    stmt = select(Rollup.meter_id, Rollup.period_start, *AGG_COLUMNS).where(
        Rollup.meter_id.in_(meter_ids),
        Rollup.grain == finer,
        Rollup.period_start >= lo,
        Rollup.period_start < hi,
    )
    aggs: dict[tuple[int, datetime], Agg] = {}
    for row in session.execute(stmt):
        key = (row[0], period_start(row[1], grain, tz))
        aggs.setdefault(key, Agg()).merge(agg_of(row[2:]))
    rows = [_row(m, grain, p, a) for (m, p), a in aggs.items()]
    _replace(session, meter_ids, grain, lo, hi, rows)
