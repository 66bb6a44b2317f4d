"""Per-meter rollups (hour, day, month), kept up to date on every write, and their queries.

Maintenance is incremental: a write touches only the hours holding the changed readings (for
``counter`` meters also the hour of the next later reading, whose difference changed). Those
hours are recomputed from the raw rows of just those hours (latest version per timestamp);
days are recomputed from their hourly rows and months from their daily rows, so analysis and
late data never rescan the raw history.

Quantities per reading, by ``Meter.measurement``:

* ``counter``: the consumption since the previous reading (register difference). A decrease
  is a roll-over when the previous value was near the top of its register (a power of ten)
  and the new one near zero (consumption = top - previous + new), otherwise a reset
  (consumption 0 for that step); both are counted in ``rollovers``/``resets`` so that
  verification can see them. Consumption is never negative. The very first reading of a
  meter is its baseline (consumption 0). The rule lives in :mod:`kilnwatch.domain.counters`.
* ``interval``: the value (the quantity in the interval ending at ``ts``).
* ``instant``: the value; ``sum / count`` is the mean.

Hours are UTC hours; days and months are calendar periods in the platform's zone
(``ValidationPolicy.local_tz``, Asia/Shanghai by default), stored by their UTC start.

Period attribution (docs/formats.md, Readings): the ``ts`` of an ``interval`` reading is the
END of its interval, and a ``counter`` difference is the quantity of the interval ending at the
later reading, so for these meters periods are ``(start, end]``: a reading belongs to the
period containing ``ts - 1 µs`` (the value at 1 April 00:00 local closes March).
``instant`` readings belong to the period containing ``ts`` (``[start, end)``). ``first_ts`` /
``last_ts`` / ``first`` / ``last`` stay the real timestamps and raw values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import Session

from kilnwatch.domain.counters import CounterPolicy, counter_delta
from kilnwatch.identity import Principal
from kilnwatch.store.models import Meter, Reading, Rollup
from kilnwatch.store.repos.scope import owned_by_visible_enterprise

HOUR, DAY, MONTH = "hour", "day", "month"
GRAINS = (HOUR, DAY, MONTH)
PERIOD_END_MEASUREMENTS = frozenset({"counter", "interval"})
"""Measurements whose reading closes the interval ending at ``ts`` (periods ``(start, end]``)."""
_ONE_HOUR = timedelta(hours=1)
_TINY = timedelta(microseconds=1)


# -- periods -----------------------------------------------------------------------------


def period_start(ts: datetime, grain: str, tz: tzinfo) -> datetime:
    """UTC start of the hour, local day or local month containing ``ts``."""
    if grain == HOUR:
        return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    local = ts.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == MONTH:
        local = local.replace(day=1)
    return local.astimezone(UTC)


def closes_interval(measurement: str) -> bool:
    """Whether a reading of this measurement ends an interval (counter, interval meters)."""
    return measurement in PERIOD_END_MEASUREMENTS


def attribution_offset(measurement: str) -> timedelta:
    """What to subtract from ``ts`` before finding its period: 1 µs for counter/interval."""
    return _TINY if closes_interval(measurement) else timedelta(0)


def reading_period(ts: datetime, grain: str, tz: tzinfo, measurement: str) -> datetime:
    """UTC start of the period a reading at ``ts`` belongs to.

    Counter and interval readings close the interval ending at ``ts``: they belong to the
    period containing ``ts - 1 µs`` (periods ``(start, end]``); instant readings to the one
    containing ``ts``.
    """
    return period_start(ts - attribution_offset(measurement), grain, tz)


def next_period(start: datetime, grain: str, tz: tzinfo) -> datetime:
    """UTC start of the period after the one starting at ``start``."""
    if grain == HOUR:
        return start + _ONE_HOUR
    local = start.astimezone(tz)
    if grain == DAY:
        return period_start(local + timedelta(days=1, hours=12), DAY, tz)
    return period_start(local.replace(day=28) + timedelta(days=7), MONTH, tz)


# -- aggregation -------------------------------------------------------------------------


@dataclass
class Agg:
    """Running aggregate of one meter over one period."""

    sum: float = 0.0
    count: int = 0
    min: float = math.inf
    max: float = -math.inf
    first: float = 0.0
    last: float = 0.0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    resets: int = 0
    rollovers: int = 0

    def add(self, ts: datetime, raw: float, quantity: float, event: str | None = None) -> None:
        """One reading (in time order): raw value and its quantity."""
        self.merge(Agg(quantity, 1, quantity, quantity, raw, raw, ts, ts))
        self.resets += event == "reset"
        self.rollovers += event == "rollover"

    def merge(self, other: Agg) -> None:
        """Fold a later-or-earlier aggregate into this one."""
        if other.count == 0 or other.first_ts is None or other.last_ts is None:
            return
        if self.first_ts is None or other.first_ts < self.first_ts:
            self.first, self.first_ts = other.first, other.first_ts
        if self.last_ts is None or other.last_ts >= self.last_ts:
            self.last, self.last_ts = other.last, other.last_ts
        self.sum += other.sum
        self.count += other.count
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.resets += other.resets
        self.rollovers += other.rollovers


_AGG_COLUMNS = (Rollup.sum, Rollup.count, Rollup.min, Rollup.max, Rollup.first, Rollup.last,
                Rollup.first_ts, Rollup.last_ts, Rollup.resets, Rollup.rollovers)  # fmt: skip


def _agg_of(values: Sequence[Any]) -> Agg:
    return Agg(*values)


def _row(meter_id: int, grain: str, start: datetime, a: Agg) -> dict[str, object]:
    return {
        "meter_id": meter_id, "grain": grain, "period_start": start, "sum": a.sum,
        "count": a.count, "min": a.min, "max": a.max, "first": a.first, "last": a.last,
        "first_ts": a.first_ts, "last_ts": a.last_ts, "resets": a.resets,
        "rollovers": a.rollovers,
    }  # fmt: skip


def hourly_aggregates(
    readings: Iterable[tuple[datetime, float]],
    measurement: str,
    previous: float | None,
    policy: CounterPolicy,
) -> dict[datetime, Agg]:
    """Hourly aggregates of one meter's readings (time-ordered, one value per ts).

    Keyed by :func:`reading_period`: counter and interval readings at ``hh:00`` close the
    previous hour.
    """
    hours: dict[datetime, Agg] = {}
    for ts, value in readings:
        quantity, event = value, None
        if measurement == "counter":
            quantity, event = (
                (0.0, None) if previous is None else counter_delta(previous, value, policy)
            )
            previous = value
        hour = reading_period(ts, HOUR, UTC, measurement)
        hours.setdefault(hour, Agg()).add(ts, value, quantity, event)
    return hours


# -- maintenance ---------------------------------------------------------------------------


def refresh_rollups(
    session: Session,
    changed: Mapping[int, Sequence[datetime]],
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy | None = None,
) -> None:
    """Recompute the rollups touched by readings written at ``changed[meter_id]`` times.

    Set-based, in SQL (:mod:`kilnwatch.store.rollups_sql`), with the rules of
    :func:`hourly_aggregates`; :func:`refresh_rollups_python` is the row-by-row reference.
    """
    from kilnwatch.store.rollups_sql import refresh_rollup_ranges

    ranges = {m: (min(times), max(times)) for m, times in changed.items() if times}
    refresh_rollup_ranges(session, ranges, measurements, tz, policy)


def refresh_rollups_python(
    session: Session,
    changed: Mapping[int, Sequence[datetime]],
    measurements: Mapping[int, str],
    tz: tzinfo,
    policy: CounterPolicy | None = None,
) -> None:
    """Row-by-row reference implementation of :func:`refresh_rollups` (used by tests)."""
    policy = policy or CounterPolicy()
    groups: dict[tuple[datetime, datetime, timedelta], list[int]] = defaultdict(list)
    for meter_id, times in changed.items():
        if times:
            kind = measurements.get(meter_id, "instant")
            lo = reading_period(min(times), HOUR, UTC, kind)
            hi = reading_period(max(times), HOUR, UTC, kind)
            groups[(lo, hi, attribution_offset(kind))].append(meter_id)
    for (lo, hi, shift), meter_ids in groups.items():
        end = _extended_end(session, meter_ids, measurements, hi + _ONE_HOUR)
        _refresh_hours(session, meter_ids, measurements, lo, end, shift, policy)
        _refresh_coarse(session, meter_ids, HOUR, DAY, lo, end, tz)
        _refresh_coarse(session, meter_ids, DAY, MONTH, lo, end, tz)


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
    return max(end, reading_period(max(later), HOUR, UTC, "counter") + _ONE_HOUR)


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
    rows: list[dict[str, object]] = []
    for meter_id in meter_ids:
        hours = hourly_aggregates(
            series.get(meter_id, []), measurements.get(meter_id, "instant"),
            previous.get(meter_id), policy,
        )  # fmt: skip
        rows.extend(_row(meter_id, HOUR, h, a) for h, a in hours.items())
    _replace(session, meter_ids, HOUR, start, end, rows)


def _replace(
    session: Session,
    meter_ids: list[int],
    grain: str,
    start: datetime,
    end: datetime,
    rows: list[dict[str, object]],
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
    lo = period_start(start, grain, tz)
    hi = next_period(period_start(end - _TINY, grain, tz), grain, tz)
    stmt = select(Rollup.meter_id, Rollup.period_start, *_AGG_COLUMNS).where(
        Rollup.meter_id.in_(meter_ids),
        Rollup.grain == finer,
        Rollup.period_start >= lo,
        Rollup.period_start < hi,
    )
    aggs: dict[tuple[int, datetime], Agg] = {}
    for row in session.execute(stmt):
        key = (row[0], period_start(row[1], grain, tz))
        aggs.setdefault(key, Agg()).merge(_agg_of(row[2:]))
    rows = [_row(m, grain, p, a) for (m, p), a in aggs.items()]
    _replace(session, meter_ids, grain, lo, hi, rows)


# -- queries ---------------------------------------------------------------------------------


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
    meter_ids: Sequence[int],
    grain: str,
    start: datetime,
    end: datetime,
) -> dict[int, MeterTotal]:
    """Totals per meter over rollup periods of ``grain`` starting in [start, end)."""
    stmt = select(Rollup.meter_id, *_AGG_COLUMNS).where(
        Rollup.meter_id.in_(list(meter_ids)),
        Rollup.grain == grain,
        Rollup.period_start >= start,
        Rollup.period_start < end,
    )
    aggs: dict[int, Agg] = {}
    for row in session.execute(stmt):
        aggs.setdefault(row[0], Agg()).merge(_agg_of(row[1:]))
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
