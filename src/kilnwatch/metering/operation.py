"""How each meter operates: online rate, completeness, silent and stuck spells, replacements,
and the calibration state; per enterprise, the "meter operation" figures other capabilities
show (:func:`enterprise_operation`, documented in docs/metering.md).

Everything is read from the hourly rollups (no raw scan). These are monitoring-quality
events of the metering system: a silent meter, a stuck register or a replaced meter is
reported here as an operation event, not as an integrity finding.

Rules, each against the meter's own behaviour and its neighbours:

* online rate = hours with at least one reading / hours of the window;
* completeness = readings received / readings expected, the expectation being the meter's own
  usual count per reporting hour (the median) times the hours of the window;
* silent: a run of at least ``silent_h`` hours without a reading (also when still silent at
  the end of the window);
* stuck: a run of at least ``stuck_h`` reporting hours in which the meter is flat: an
  interval or instant meter repeating one non-zero value (a live signal always varies), or a
  counter that does not advance while its witnesses move (the meters under it, for an entry
  meter; else the product-output meters of its unit), so a stopped plant is not a stuck
  meter;
* replacement: a counter reset whose register restarts near zero, below
  ``replacement_fraction`` of the register before it (a new meter, 换表), as opposed to a reset
  to some other value;
* drift: the daily balance of a parent meter and the meters under it trends, beyond their
  accuracy classes, more like a line than a step (:mod:`.drift`), attributed to the parent or
  to the sibling whose share moves with it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.metering.census import DEFAULT_ALERT_DAYS, calibration_gaps, latest_results
from kilnwatch.metering.drift import DRIFT, DriftSettings, accuracy_percent, group_drift
from kilnwatch.metering.gaps import CALIBRATION_OVERDUE
from kilnwatch.store.models import Meter, Rollup

HOUR = timedelta(hours=1)
SILENT = "metering.operation.silent"
STUCK = "metering.operation.stuck"
REPLACED = "metering.operation.replaced"
EVENT_CODES = (SILENT, STUCK, REPLACED, DRIFT)
DAY_H = 24


@dataclass(frozen=True)
class OperationSettings:
    """Thresholds of the operation rules (policy defaults of kilnwatch, not from a standard).

    Parameters
    ----------
    silent_h : int
        Hours without a reading that make a meter silent [h] (a whole day: the enterprise's
        daily data obligation is missed).
    stuck_h : int
        Flat reporting hours, while a neighbour moves, that make a meter stuck [h]
        (verification's stuck-sensor rule uses 2 h on raw readings; hours of rollups are
        coarser, so 3).
    replacement_fraction : float
        A reset whose register restarts below this share of the register before it is a
        replacement [-].
    """

    silent_h: int = 24
    stuck_h: int = 3
    replacement_fraction: float = 0.01
    drift: DriftSettings = field(default_factory=DriftSettings)


@dataclass(frozen=True)
class OperationEvent:
    """A silent or stuck spell, or a replacement, of one meter: ``[start, end)`` in UTC."""

    code: str
    meter_id: int
    meter_code: str
    start: datetime
    end: datetime
    evidence: dict[str, float] = field(default_factory=dict)

    @property
    def hours(self) -> float:
        return (self.end - self.start) / HOUR


@dataclass
class MeterOperation:
    """Operation figures of one meter over a window."""

    meter_id: int
    meter_code: str
    hours: int
    reporting_hours: int
    readings: int
    expected_readings: int
    events: list[OperationEvent] = field(default_factory=list)
    calibration_overdue: bool = False

    @property
    def online_fraction(self) -> float:
        return self.reporting_hours / self.hours if self.hours else 0.0

    @property
    def completeness_fraction(self) -> float:
        if not self.expected_readings:
            return 0.0
        return min(1.0, self.readings / self.expected_readings)


@dataclass
class EnterpriseOperation:
    """The "meter operation" figures of one enterprise over a window (docs/metering.md)."""

    enterprise_id: int
    meters: list[MeterOperation] = field(default_factory=list)

    @property
    def online_fraction(self) -> float:
        """Mean online rate of the enterprise's meters [-] (0 without meters)."""
        return statistics.fmean(m.online_fraction for m in self.meters) if self.meters else 0.0

    @property
    def completeness_fraction(self) -> float:
        """Readings received / expected over all its meters [-]."""
        expected = sum(m.expected_readings for m in self.meters)
        return min(1.0, sum(m.readings for m in self.meters) / expected) if expected else 0.0

    @property
    def calibration_overdue(self) -> int:
        """Meters past their verification due date."""
        return sum(m.calibration_overdue for m in self.meters)

    @property
    def events(self) -> list[OperationEvent]:
        return [e for m in self.meters for e in m.events]

    def count(self, code: str) -> int:
        return sum(e.code == code for e in self.events)

    @property
    def anomalies(self) -> int:
        """Silent and stuck spells and replacements."""
        return len(self.events)


@dataclass(frozen=True, slots=True)
class _Hour:
    start: datetime
    sum: float
    count: int
    min: float
    max: float
    last: float
    resets: int


def _hours(session: Session, meter_ids: Sequence[int], start: datetime, end: datetime
           ) -> dict[int, dict[datetime, _Hour]]:  # fmt: skip
    stmt = (
        select(
            Rollup.meter_id,
            Rollup.period_start,
            Rollup.sum,
            Rollup.count,
            Rollup.min,
            Rollup.max,
            Rollup.last,
            Rollup.resets,
        )  # fmt: skip
        .where(Rollup.meter_id.in_(list(meter_ids)), Rollup.grain == "hour")
        .where(Rollup.period_start >= start, Rollup.period_start < end)
    )
    out: dict[int, dict[datetime, _Hour]] = defaultdict(dict)
    for meter_id, at, total, count, low, high, last, resets in session.execute(stmt):
        out[meter_id][at] = _Hour(at, total, count, low, high, last, resets)
    return out


def _flat(meter: Meter, hour: _Hour) -> bool:
    """A counter that does not advance; another meter repeating one non-zero value."""
    if meter.measurement == "counter":
        return hour.sum == 0
    return hour.count > 1 and hour.min == hour.max != 0


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """``[i, j)`` index ranges of consecutive True values."""
    runs, begin = [], None
    for i, flag in enumerate((*flags, False)):
        if flag and begin is None:
            begin = i
        elif not flag and begin is not None:
            runs.append((begin, i))
            begin = None
    return runs


class _Window:
    def __init__(self, start: datetime, end: datetime, settings: OperationSettings) -> None:
        self.grid = [start + i * HOUR for i in range(int((end - start) / HOUR))]
        self.settings = settings

    def event(self, code: str, meter: Meter, i: int, j: int, **evidence: float) -> OperationEvent:
        end = self.grid[j - 1] + HOUR
        return OperationEvent(code, meter.id, meter.code, self.grid[i], end, dict(evidence))

    def silent(self, meter: Meter, hours: dict[datetime, _Hour]) -> list[OperationEvent]:
        missing = [t not in hours for t in self.grid]
        return [
            self.event(SILENT, meter, i, j)
            for i, j in _runs(missing)
            if j - i >= self.settings.silent_h
        ]

    def stuck(self, meter: Meter, hours: dict[datetime, _Hour], expected: set[datetime] | None
              ) -> list[OperationEvent]:  # fmt: skip
        flat = [t in hours and _flat(meter, hours[t]) and (expected is None or t in expected)
                for t in self.grid]  # fmt: skip
        return [
            self.event(STUCK, meter, i, j, value=hours[self.grid[i]].max)
            for i, j in _runs(flat)
            if j - i >= self.settings.stuck_h
        ]

    def replaced(self, meter: Meter, hours: dict[datetime, _Hour]) -> list[OperationEvent]:
        if meter.measurement != "counter":
            return []
        out, before = [], None
        for i, t in enumerate(self.grid):
            hour = hours.get(t)
            if hour is None:
                continue
            limit = self.settings.replacement_fraction * (before or 0.0)
            if hour.resets and before is not None and hour.last < limit:
                out.append(self.event(REPLACED, meter, i, i + 1, register_before=before,
                                      register_after=hour.last))  # fmt: skip
            before = hour.last
        return out


def _moves(meter: Meter, hour: _Hour) -> bool:
    """Something flowed through a counter or interval meter; an instant meter varied."""
    if meter.measurement == "instant":
        return hour.max != hour.min
    return hour.sum > 0


def _witnesses(meter: Meter, meters: Sequence[Meter]) -> list[Meter]:
    """The meters whose movement shows that a counter should advance: the meters under it
    (an entry meter measures their sum), or else the product-output meters of its unit
    (the unit produces, so its energy flows)."""
    children = [p for p in meters if p.parent_meter_id == meter.id]
    if children or meter.unit_id is None:
        return children
    return [p for p in meters if p.unit_id == meter.unit_id and p.carrier.startswith("product:")
            and p.id != meter.id]  # fmt: skip


def _expected_hours(meters: Sequence[Meter], hours: dict[int, dict[datetime, _Hour]]
                    ) -> dict[int, set[datetime] | None]:  # fmt: skip
    """Per meter: the hours in which its witnesses move (counters), or None when a flat
    hour is abnormal in itself (interval and instant meters repeating a non-zero value)."""
    moving = {m.id: {t for t, h in hours.get(m.id, {}).items() if _moves(m, h)}
              for m in meters}  # fmt: skip
    out: dict[int, set[datetime] | None] = {}
    for m in meters:
        if m.measurement != "counter":
            out[m.id] = None
            continue
        out[m.id] = set().union(*(moving[w.id] for w in _witnesses(m, meters)))
    return out


def _meter_operation(meter: Meter, hours: dict[datetime, _Hour], expected: set[datetime] | None,
                     window: _Window) -> MeterOperation:  # fmt: skip
    counts = [h.count for h in hours.values() if h.count]
    per_hour = statistics.median(counts) if counts else 0
    op = MeterOperation(meter.id, meter.code, len(window.grid), len(counts), sum(counts),
                        int(round(per_hour * len(window.grid))))  # fmt: skip
    op.events = [
        *window.silent(meter, hours),
        *window.stuck(meter, hours, expected),
        *window.replaced(meter, hours),
    ]
    return op


def _drift_events(meters: Sequence[Meter], hours: dict[int, dict[datetime, _Hour]],
                  window: _Window) -> list[OperationEvent]:  # fmt: skip
    """Drift of each parent meter and its children of the same carrier, over the window's
    whole days on which every meter of the group reported every hour."""
    flows = [m for m in meters if m.measurement in ("counter", "interval")]
    days = [window.grid[i : i + DAY_H] for i in range(0, len(window.grid) - DAY_H + 1, DAY_H)]
    out = []
    for parent in flows:
        kids = [m for m in flows if m.parent_meter_id == parent.id and m.carrier == parent.carrier]
        group = [parent, *kids]
        if len(group) < 2:
            continue
        whole = [d for d in days if all(t in hours.get(m.id, {}) for m in group for t in d)]
        daily = {m.id: [sum(hours[m.id][t].sum for t in d) for d in whole] for m in group}
        classes = {m.id: accuracy_percent(m.accuracy_class) for m in group}
        found = group_drift(parent.id, daily, classes, window.settings.drift)
        if found is None:
            continue
        meter = next(m for m in group if m.id == found.meter_id)
        out.append(OperationEvent(
            DRIFT, meter.id, meter.code, whole[0][0], whole[-1][-1] + HOUR,
            {"parent_meter_id": float(parent.id), "ratio_start": found.ratio_start,
             "ratio_end": found.ratio_end, "drift_fraction": found.drift_fraction,
             "tolerance_fraction": found.tolerance_fraction,
             "attributed": float(found.attributed), "days": float(len(whole))},
        ))  # fmt: skip
    return out


def _data_end(session: Session, start: datetime, end: datetime) -> datetime:
    """The end of the newest hour with any reading in ``[start, end)`` (``start`` without
    any): a window reaching past the data stops there, so the hours not yet delivered by
    anyone are not counted as every meter falling silent."""
    newest = session.scalar(
        select(func.max(Rollup.period_start)).where(
            Rollup.grain == "hour", Rollup.period_start >= start, Rollup.period_start < end
        )
    )
    return newest + HOUR if newest is not None else start


def enterprise_operation(
    session: Session,
    enterprise_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    as_of: date | None = None,
    settings: OperationSettings | None = None,
) -> dict[int, EnterpriseOperation]:
    """Meter operation of each enterprise over ``[start, end)`` (UTC, whole hours), cut at the
    newest hour with data of the whole platform.

    The public entry point for other capabilities (projects, supervision): per enterprise the
    online rate, completeness, meters past their calibration due date on ``as_of`` (default:
    the day before ``end``) and the operation events. The caller scopes ``enterprise_ids``.
    """
    settings = settings or OperationSettings()
    end = min(end, _data_end(session, start, end))
    window = _Window(start, end, settings)
    as_of = as_of or (end - timedelta(microseconds=1)).date()
    meters = list(session.scalars(
        select(Meter).where(Meter.enterprise_id.in_(list(enterprise_ids))).order_by(Meter.code)
    ))  # fmt: skip
    hours = _hours(session, [m.id for m in meters], start, end)
    results = latest_results(session, [m.id for m in meters])
    out = {e: EnterpriseOperation(e) for e in enterprise_ids}
    for ent_id in out:
        ent_meters = [m for m in meters if m.enterprise_id == ent_id]
        expected = _expected_hours(ent_meters, hours)
        drifts = _drift_events(ent_meters, hours, window)
        for m in ent_meters:
            op = _meter_operation(m, hours.get(m.id, {}), expected[m.id], window)
            op.events += [e for e in drifts if e.meter_id == m.id]
            gaps = calibration_gaps(m, results.get(m.id), as_of, DEFAULT_ALERT_DAYS)
            op.calibration_overdue = any(x.code == CALIBRATION_OVERDUE for x in gaps)
            out[ent_id].meters.append(op)
    return out
