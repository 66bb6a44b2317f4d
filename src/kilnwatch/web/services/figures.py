"""Energy (tce), coal, electricity, CO₂ and intensities of enterprises and their groups.

Quantities are the monthly rollups of entry meters (:func:`store.repos.figures.entry_sums`),
converted with the same GB/T 2589 coefficients and CO₂ factors as the accounting package:
both conversions are linear in the quantity, so a factor per (carrier, unit[, year]) is
computed once from the accounting functions and applied to sums.

Two province totals exist and are labelled as such on the pages (docs/web.md):
- **enterprise energy** (企业综合能耗): entry meters, what crosses the enterprise boundary
  (GB/T 2589 counts comprehensive energy consumption there); used for totals and intensities;
- **production-unit energy** (生产单元能耗): the sum of unit accounts (sub-unit meters), used
  for efficiency classes; smaller by the losses and the use outside production units
  (transformers, pipes, offices), about 1 % in the simulated province.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from sqlalchemy.orm import Session

from kilnwatch.store.repos.figures import Where, entry_sums, sales_by_month
from kilnwatch.web.services.seam import (
    MeterInput,
    Period,
    PeriodFigures,
    co2_of,
    energy_kgce_of,
)

COAL_CARRIERS = frozenset({"raw_coal", "washed_coal", "middlings", "coal_slime"})
"""Carriers counted as coal consumption (煤炭消费量, physical tonnes): raw and washed coal."""
CNY_PER_10K = 10_000.0


@cache
def kgce_per_unit(carrier: str, unit: str) -> float | None:
    """GB/T 2589 kgce of one metered unit of ``carrier`` (None: not an energy carrier)."""
    notes: list[str] = []
    return energy_kgce_of([MeterInput("", carrier, 1.0, unit, 1)], notes)


@cache
def co2_t_per_unit(carrier: str, unit: str, year: int) -> float:
    """t CO₂ of one metered unit of ``carrier`` in ``year`` (0 for non-emitting carriers)."""
    return co2_of([MeterInput("", carrier, 1.0, unit, 1)], year, [], {})


@dataclass
class Totals(PeriodFigures):
    """Figures of a group of enterprises over a period: the intensity report's figures
    (energy, CO₂, revenue and their ratios) with coal, electricity and who is counted."""

    coal_t: float = 0.0
    electricity_kwh: float = 0.0
    enterprise_ids: set[int] = field(default_factory=set)

    @property
    def enterprises(self) -> int:
        return len(self.enterprise_ids)

    @property
    def has_data(self) -> bool:
        return self.energy_tce > 0 or self.electricity_kwh > 0

    def add(self, other: Totals) -> None:
        self.energy_tce += other.energy_tce
        self.coal_t += other.coal_t
        self.electricity_kwh += other.electricity_kwh
        self.co2_t += other.co2_t
        self.revenue_10k_cny += other.revenue_10k_cny
        self.enterprise_ids |= other.enterprise_ids

    def as_row(self) -> dict[str, float | int | None]:
        return {
            "energy_tce": self.energy_tce,
            "coal_t": self.coal_t,
            "electricity_kwh": self.electricity_kwh,
            "co2_t": self.co2_t,
            "revenue_10k_cny": self.revenue_10k_cny,
            "energy_intensity": self.energy_intensity_tce_per_10k_cny,
            "carbon_intensity": self.carbon_intensity_t_per_10k_cny,
            "enterprises": self.enterprises,
        }


@dataclass
class FigureSet:
    """Totals per enterprise, per month (label) and per (enterprise, month) of one period."""

    period: Period
    by_enterprise: dict[int, Totals]
    by_month: dict[str, Totals]
    by_enterprise_month: dict[tuple[int, str], Totals] = field(default_factory=dict)

    def total(self, enterprise_ids: set[int] | None = None) -> Totals:
        out = Totals()
        for eid, totals in self.by_enterprise.items():
            if enterprise_ids is None or eid in enterprise_ids:
                out.add(totals)
        return out

    def restricted(self, enterprise_ids: set[int]) -> FigureSet:
        """The same figures for these enterprises only (a page's jurisdiction)."""
        by_month: dict[str, Totals] = defaultdict(Totals)
        for (eid, month), totals in self.by_enterprise_month.items():
            if eid in enterprise_ids:
                by_month[month].add(totals)
        by_enterprise = {e: t for e, t in self.by_enterprise.items() if e in enterprise_ids}
        pieces = {k: t for k, t in self.by_enterprise_month.items() if k[0] in enterprise_ids}
        return FigureSet(self.period, by_enterprise, dict(by_month), pieces)


def compute_figures(session: Session, where: Where, period: Period) -> FigureSet:
    zone = period.zone
    by_enterprise: dict[int, Totals] = defaultdict(Totals)
    by_month: dict[str, Totals] = defaultdict(Totals)
    pieces: dict[tuple[int, str], Totals] = defaultdict(Totals)
    for s in entry_sums(session, where, period.start, period.end):
        month = s.month_start.astimezone(zone).strftime("%Y-%m")
        piece = Totals(enterprise_ids={s.enterprise_id})
        kgce = kgce_per_unit(s.carrier, s.unit_of_measure)
        piece.energy_tce = (kgce or 0.0) * s.quantity / 1000.0
        piece.co2_t = co2_t_per_unit(s.carrier, s.unit_of_measure, int(month[:4])) * s.quantity
        if s.carrier in COAL_CARRIERS and s.unit_of_measure == "t":
            piece.coal_t = s.quantity
        if s.carrier == "electricity" and s.unit_of_measure == "kWh":
            piece.electricity_kwh = s.quantity
        by_enterprise[s.enterprise_id].add(piece)
        by_month[month].add(piece)
        pieces[(s.enterprise_id, month)].add(piece)
    last_day = (period.end - timedelta(days=1)).astimezone(zone).date()
    first_day = period.start.astimezone(zone).date()
    for eid, month, amount in sales_by_month(session, where, first_day, last_day):
        piece = Totals(revenue_10k_cny=amount / CNY_PER_10K, enterprise_ids={eid})
        by_enterprise[eid].add(piece)
        by_month[month].add(piece)
        pieces[(eid, month)].add(piece)
    return FigureSet(period, dict(by_enterprise), dict(by_month), dict(pieces))


def change_fraction(now: float | None, then: float | None) -> float | None:
    """(now − then) / then, or None without a positive ``then``."""
    if now is None or then is None or then <= 0:
        return None
    return (now - then) / then
