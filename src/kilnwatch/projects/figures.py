"""Metered figures of enterprises and production units over an interval, from the rollups:
output by product, energy [tce] (GB/T 2589), coal [t], and how their meters operate.

- Output: the top product meters (``product:<name>`` carriers) of the units, in t.
- Energy and coal: the entry meters (GB 17167 level 1, what crosses the enterprise boundary),
  converted by the GB/T 2589 coefficients; coal is the physical tonnes of the coal carriers of
  ``reference/energy/coal_carriers.csv``.
- Meter operation: the metering capability's figures (docs/metering.md): online rate,
  calibrations overdue (certificates and due dates), anomalies (silent, stuck, replaced
  meters); and the standing verification findings (open, confirmed) overlapping the interval.

References
----------
.. [1] GB/T 2589-2020, 综合能耗计算通则 (through :func:`kilnwatch.domain.energy.energy_kgce`).
.. [2] GB 17167-2006, 用能单位能源计量器具配备和管理通则, 4.2 (levels of metering).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.domain.energy import carrier_keys, energy_kgce
from kilnwatch.errors import KilnwatchError
from kilnwatch.metering.operation import enterprise_operation
from kilnwatch.reference.energy import load_coal_carriers
from kilnwatch.store.models import FindingRecord, Meter
from kilnwatch.store.repos.rollups import meter_totals

PRODUCT_PREFIX = "product:"
STANDING = ("open", "confirmed")


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
    """How an enterprise's meters operated over an interval (from :mod:`kilnwatch.metering`)
    and the verification findings standing against it."""

    meters: int
    online_fraction: float | None
    calibration_overdue: int
    anomalies: int
    """Silent and stuck spells and replacements of its meters (metering operation events)."""
    findings: int
    """Standing verification findings (open, confirmed) overlapping the interval."""


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
    """Online rate, overdue calibrations and anomalies per enterprise (the metering
    capability's :func:`~kilnwatch.metering.operation.enterprise_operation`), and the standing
    findings."""
    ops = enterprise_operation(session, enterprise_ids, start, end)
    findings: dict[int, int] = dict(
        session.execute(
            select(FindingRecord.enterprise_id, func.count())
            .where(FindingRecord.enterprise_id.in_(list(enterprise_ids)))
            .where(FindingRecord.status.in_(STANDING))
            .where(FindingRecord.start_at < end, FindingRecord.end_at > start)
            .group_by(FindingRecord.enterprise_id)
        ).all()
    )
    return {
        eid: MeterOperation(
            len(op.meters), op.online_fraction if op.meters else None, op.calibration_overdue,
            op.anomalies, findings.get(eid, 0),
        )
        for eid, op in ops.items()
    }  # fmt: skip


__all__ = ["Figures", "MeterOperation", "meter_operation", "metered_figures"]
