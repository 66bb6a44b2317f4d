"""Energy and carbon intensity of enterprises and regions, against a base year (2020).

Energy is what the enterprise entry meters (进出用能单位) measured: comprehensive energy
consumption per GB/T 2589; the denominator is sales revenue from VAT invoices [10^4 CNY]. The
intensity of a region is Σ energy / Σ revenue of its enterprises, never a mean of ratios.

References
----------
.. [1] GB/T 2589-2020, comprehensive energy consumption.
.. [2] The 14th Five-Year energy-intensity target (−13.5 % in 2025 against 2020), as
   ``levels/targets.csv`` records it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.accounting.groups import group_key, group_names
from kilnwatch.accounting.inputs import MeterInput, co2_of, energy_kgce_of
from kilnwatch.domain import IntensityChange, check_reduction_target, intensity_vs_base
from kilnwatch.domain.periods import Period
from kilnwatch.errors import KilnwatchError
from kilnwatch.identity import Principal
from kilnwatch.store.models import Enterprise, Meter, TaxInvoice
from kilnwatch.store.repos.rollups import meter_totals
from kilnwatch.store.repos.scope import enterprise_scope

CNY_PER_10K = 10_000.0


@dataclass
class PeriodFigures:
    """Entry-meter energy [tce], CO2 [t] and sales revenue [10^4 CNY] over one period."""

    energy_tce: float = 0.0
    co2_t: float = 0.0
    revenue_10k_cny: float = 0.0

    @property
    def energy_intensity_tce_per_10k_cny(self) -> float | None:
        return self.energy_tce / self.revenue_10k_cny if self.revenue_10k_cny > 0 else None

    @property
    def carbon_intensity_t_per_10k_cny(self) -> float | None:
        return self.co2_t / self.revenue_10k_cny if self.revenue_10k_cny > 0 else None


@dataclass
class IntensityRow:
    """One group's figures in the period and the base period, and the intensity changes."""

    key: str
    name: str
    period: PeriodFigures
    base: PeriodFigures
    energy_change_fraction: float | None = None
    """Change of energy intensity against the base period (−0.135 = 13.5 % lower)."""
    carbon_change_fraction: float | None = None
    meets_energy_target: bool | None = None
    notes: list[str] = field(default_factory=list)


def _entry_figures(
    session: Session, enterprises: list[Enterprise], period: Period
) -> dict[int, PeriodFigures]:
    ids = [e.id for e in enterprises]
    meters = session.scalars(
        select(Meter).where(Meter.enterprise_id.in_(ids), Meter.level == "entry")
    ).all()
    totals = meter_totals(session, [m.id for m in meters], "month", period.start, period.end)
    inputs: dict[int, list[MeterInput]] = defaultdict(list)
    for m in meters:
        if m.id in totals and m.measurement != "instant" and not m.carrier.startswith("product:"):
            t = totals[m.id]
            inputs[m.enterprise_id].append(
                MeterInput(m.code, m.carrier, t.sum, m.unit_of_measure, t.count)
            )
    revenue = dict(
        session.execute(
            select(TaxInvoice.enterprise_id, func.sum(TaxInvoice.amount_cny))
            .where(TaxInvoice.enterprise_id.in_(ids), TaxInvoice.direction == "sale")
            .where(TaxInvoice.issued_on >= period.first, TaxInvoice.issued_on < period.stop)
            .group_by(TaxInvoice.enterprise_id)
        ).all()
    )
    figures: dict[int, PeriodFigures] = {}
    for e in enterprises:
        notes: list[str] = []
        kgce = energy_kgce_of(inputs[e.id], notes) or 0.0
        co2 = co2_of(inputs[e.id], period.year, notes, {})
        figures[e.id] = PeriodFigures(
            kgce / 1000.0, co2, float(revenue.get(e.id) or 0.0) / CNY_PER_10K
        )
    return figures


def _row(
    key: str, name: str, now: PeriodFigures, base: PeriodFigures, years: tuple[int, int]
) -> IntensityRow:
    row = IntensityRow(key, name, now, base)
    if not (now.revenue_10k_cny and base.revenue_10k_cny and base.energy_tce):
        row.notes.append("no base-period energy and revenue: change not computed")
        return row

    def change(now_amount: float, base_amount: float) -> IntensityChange:
        return intensity_vs_base(
            now_amount, now.revenue_10k_cny, base_amount, base.revenue_10k_cny,
            year=years[0], base_year=years[1],
        )  # fmt: skip

    try:
        energy = change(now.energy_tce, base.energy_tce)
        row.energy_change_fraction = energy.change_fraction
        row.meets_energy_target = check_reduction_target(energy).met
        if base.co2_t:
            row.carbon_change_fraction = change(now.co2_t, base.co2_t).change_fraction
    except KilnwatchError as exc:
        row.notes.append(exc.message)
    return row


def intensity_rows(
    session: Session, principal: Principal, period: Period, base: Period, by: str = "enterprise"
) -> list[IntensityRow]:
    """Energy and carbon intensity per ``enterprise``, ``city``, ``industry`` or ``province``,
    vs ``base``."""
    enterprises = list(session.scalars(select(Enterprise).where(enterprise_scope(principal))))
    now = _entry_figures(session, enterprises, period)
    then = _entry_figures(session, enterprises, base)
    groups: dict[str, tuple[PeriodFigures, PeriodFigures]] = {}
    for e in enterprises:
        key = group_key(by, e.uscc, e.region_code, e.industry)
        a, b = groups.setdefault(key, (PeriodFigures(), PeriodFigures()))
        for acc, add in ((a, now[e.id]), (b, then[e.id])):
            acc.energy_tce += add.energy_tce
            acc.co2_t += add.co2_t
            acc.revenue_10k_cny += add.revenue_10k_cny
    names = group_names(session, by, groups, {e.uscc: e.name for e in enterprises})
    years = (period.year, base.year)
    return [_row(k, names.get(k, k), a, b, years) for k, (a, b) in sorted(groups.items())]
