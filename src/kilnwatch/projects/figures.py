"""Metered figures of enterprises and production units over an interval, from the rollups:
output by product, energy [tce] (GB/T 2589), coal [t], and how their meters operate.

- Output: the top product meters (``product:<name>`` carriers) of the units, in t.
- Energy and coal: the entry meters (GB 17167 level 1, what crosses the enterprise boundary),
  converted by the GB/T 2589 coefficients; coal is the physical tonnes of the coal carriers of
  ``reference/energy/coal_carriers.csv``.
- Meter operation: online rate = hours with at least one reading ÷ (meters × hours) from the
  hourly rollups; calibration overdue = ``calibration_due_on`` before the interval's end;
  anomalies = standing findings (open, confirmed) that overlap the interval.

References
----------
.. [1] GB/T 2589-2020, 综合能耗计算通则 (through :func:`kilnwatch.domain.energy.energy_kgce`).
.. [2] GB 17167-2006, 用能单位能源计量器具配备和管理通则, 4.2 (levels of metering).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.domain.energy import carrier_keys, energy_kgce
from kilnwatch.errors import KilnwatchError
from kilnwatch.reference.energy import load_coal_carriers
from kilnwatch.store.models import FindingRecord, Meter, Rollup
from kilnwatch.store.repos.rollups import meter_totals

PRODUCT_PREFIX = "product:"
STANDING = ("open", "confirmed")
SECONDS_PER_HOUR = 3600.0


@dataclass
class Figures:
    """Output [t] by product, energy [tce], coal [t], electricity [kWh] of one enterprise."""

    output_t: dict[str, float] = field(default_factory=dict)
    energy_tce: float = 0.0
    coal_t: float = 0.0
    electricity_kwh: float = 0.0
    notes: list[str] = field(default_factory=list)

    def output_of(self, product: str | None) -> float | None:
        if product is None:
            return sum(self.output_t.values()) if self.output_t else None
        return self.output_t.get(product)


@dataclass(frozen=True)
class MeterOperation:
    """How an enterprise's meters operated over an interval."""

    meters: int
    online_fraction: float | None
    calibration_overdue: int
    anomalies: int


def _meters(session: Session, enterprise_ids: Sequence[int]) -> list[Meter]:
    return list(session.scalars(select(Meter).where(Meter.enterprise_id.in_(list(enterprise_ids)))))


def metered_figures(
    session: Session, enterprise_ids: Sequence[int], start: datetime, end: datetime,
    grain: str = "day",
) -> dict[int, Figures]:  # fmt: skip
    """Figures per enterprise over ``[start, end)`` from the ``grain`` rollups."""
    meters = _meters(session, enterprise_ids)
    ids = {(m.id, m.carrier) for m in meters}
    energy_carriers, coal_carriers = set(carrier_keys()), load_coal_carriers()
    totals = meter_totals(session, [m.id for m in meters], grain, start, end)
    out: dict[int, Figures] = {eid: Figures() for eid in enterprise_ids}
    for m in meters:
        total = totals.get(m.id)
        if total is None or m.measurement == "instant":
            continue
        fig = out[m.enterprise_id]
        if m.carrier.startswith(PRODUCT_PREFIX):
            if (m.parent_meter_id, m.carrier) in ids or m.unit_of_measure != "t":
                continue  # counted by its parent, or not in tonnes
            product = m.carrier.removeprefix(PRODUCT_PREFIX)
            fig.output_t[product] = fig.output_t.get(product, 0.0) + total.sum
        elif m.level == "entry" and m.carrier in energy_carriers:
            try:
                fig.energy_tce += energy_kgce(m.carrier, total.sum, m.unit_of_measure).kgce / 1e3
            except KilnwatchError as exc:
                fig.notes.append(f"{m.code}: {exc.message}")
            if m.carrier in coal_carriers and m.unit_of_measure == "t":
                fig.coal_t += total.sum
            if m.carrier == "electricity" and m.unit_of_measure == "kWh":
                fig.electricity_kwh += total.sum
    return out


def meter_operation(
    session: Session, enterprise_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, MeterOperation]:
    """Online rate, overdue calibrations and standing anomalies per enterprise."""
    meters = _meters(session, enterprise_ids)
    hours = max((end - start).total_seconds() / SECONDS_PER_HOUR, 1.0)
    online_hours: dict[int, int] = dict(
        session.execute(
            select(Rollup.meter_id, func.count())
            .where(Rollup.meter_id.in_([m.id for m in meters]), Rollup.grain == "hour")
            .where(Rollup.period_start >= start, Rollup.period_start < end, Rollup.count > 0)
            .group_by(Rollup.meter_id)
        ).all()
    )
    anomalies: dict[int, int] = dict(
        session.execute(
            select(FindingRecord.enterprise_id, func.count())
            .where(FindingRecord.enterprise_id.in_(list(enterprise_ids)))
            .where(FindingRecord.status.in_(STANDING))
            .where(FindingRecord.start_at < end, FindingRecord.end_at > start)
            .group_by(FindingRecord.enterprise_id)
        ).all()
    )
    by_ent: dict[int, list[Meter]] = defaultdict(list)
    for m in meters:
        by_ent[m.enterprise_id].append(m)
    last_day: date = end.date()
    out = {}
    for eid in enterprise_ids:
        ms = by_ent.get(eid, [])
        seen = sum(min(online_hours.get(m.id, 0), hours) for m in ms)
        overdue = sum(1 for m in ms if m.calibration_due_on and m.calibration_due_on < last_day)
        out[eid] = MeterOperation(
            len(ms), seen / (len(ms) * hours) if ms else None, overdue, anomalies.get(eid, 0)
        )
    return out


__all__ = ["Figures", "MeterOperation", "meter_operation", "metered_figures"]
