"""Energy, efficiency and carbon accounts per production unit, and their aggregates.

Quantities come from the per-meter monthly rollups (never a scan of raw readings); every number
is computed by the pure functions of :mod:`kilnwatch.domain` and keeps the inputs that produced
it (meter codes, totals, coefficients, level tables), so a reviewer can redo the arithmetic.

References
----------
.. [1] GB/T 2589-2020, 综合能耗计算通则: comprehensive energy consumption and unit product
   energy consumption.
.. [2] 发改产业〔2021〕1609号 / 〔2023〕723号, and the GB limit standards, for the levels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain import (
    classify,
    co2_combustion_t,
    co2_electricity_t,
    co2_heat_t,
    energy_kgce,
    field_def,
    field_intensity,
    share_at_benchmark,
)
from kilnwatch.domain.carbon import grid_factor
from kilnwatch.domain.periods import Period
from kilnwatch.domain.units import convert, dimension_of
from kilnwatch.errors import KilnwatchError
from kilnwatch.identity import Principal
from kilnwatch.reference._csv import read_package_csv
from kilnwatch.reference.carbon import load_grid_factors
from kilnwatch.reference.registry import load_industries, load_processes
from kilnwatch.store.models import Meter, ProductionUnit, Region
from kilnwatch.store.repos.rollups import meter_totals
from kilnwatch.store.repos.scope import owned_by_visible_enterprise

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class MeterInput:
    """One meter's total over the period, as used in an account."""

    meter_code: str
    carrier: str
    quantity: float
    unit: str
    readings: int


@dataclass
class UnitAccount:
    unit_id: int
    unit_code: str
    enterprise_id: int
    enterprise_uscc: str
    enterprise_name: str
    region_code: str
    industry: str
    process: str
    level_field: str
    level_variant: str | None
    capacity: float
    capacity_unit: str
    period: str
    production: float | None = None
    production_unit: str | None = None
    energy_tce: float | None = None
    intensity: float | None = None
    intensity_unit: str | None = None
    class_: str | None = None
    class_table: str | None = None
    class_basis: str | None = None
    legal_breach: bool | None = None
    gap_to_baseline_tce_per_year: float | None = None
    co2_t: float | None = None
    co2_by_source_t: dict[str, float] = field(default_factory=dict)
    inputs: list[MeterInput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class GroupAccount:
    """Units aggregated by enterprise, city, industry or province."""

    key: str
    name: str
    units: int = 0
    units_classified: int = 0
    units_below_baseline: int = 0
    energy_tce: float = 0.0
    co2_t: float = 0.0
    capacity_share_at_benchmark_fraction: float | None = None
    target_fraction: float | None = None
    meets_target: bool | None = None


@cache
def _carrier_fuels() -> dict[str, str]:
    rows = read_package_csv("kilnwatch.reference", "carbon/carrier_fuels.csv")
    return {r["carrier"]: r["fuel"] for r in rows}


@cache
def _densities_t_per_m3() -> dict[str, float]:
    rows = read_package_csv("kilnwatch.reference", "energy/densities.csv")
    return {r["carrier"]: float(r["density_t_per_m3"]) for r in rows}


def _kgce(item: MeterInput) -> float:
    """GB/T 2589 conversion; a liquid metered by volume is weighed first when its coefficient
    is per tonne (``energy/densities.csv``)."""
    density = _densities_t_per_m3().get(item.carrier)
    if density is not None and dimension_of(item.unit) == "volume":
        mass_t = convert(item.quantity, item.unit, "m3") * density
        return energy_kgce(item.carrier, mass_t, "t").kgce
    return energy_kgce(item.carrier, item.quantity, item.unit).kgce


def _top_meters(meters: Sequence[Meter]) -> list[Meter]:
    """A unit's meters whose parent is not itself a meter of the unit with the same carrier,
    so that equipment meters under a sub-unit meter are not counted twice."""
    ids = {(m.id, m.carrier) for m in meters}
    return [m for m in meters if (m.parent_meter_id, m.carrier) not in ids]


def _factor_year(year: int) -> int | None:
    """The newest national grid factor year not after ``year`` (the factor in force)."""
    years = [f.year for f in load_grid_factors() if f.kind == "grid_average" and f.year]
    years = [y for y in years if y <= year]
    return max(years) if years else None


def energy_kgce_of(inputs: Iterable[MeterInput], notes: list[str]) -> float | None:
    """Σ GB/T 2589 kgce of ``inputs``; None (with the reason in ``notes``) when one fails."""
    total_kgce = 0.0
    for i in inputs:
        try:
            total_kgce += _kgce(i)
        except KilnwatchError as exc:
            notes.append(f"{i.meter_code}: {exc.message}")
            return None
    return total_kgce


def co2_of(
    inputs: Iterable[MeterInput], year: int, notes: list[str], by_source_t: dict[str, float]
) -> float:
    """CO2 [t] of fuels burned and electricity and heat bought, by source into ``by_source_t``."""
    fuels = _carrier_fuels()
    total = 0.0
    for i in inputs:
        try:
            if i.carrier == "electricity":
                factor_year = _factor_year(year)
                kwh = convert(i.quantity, i.unit, "kWh")
                t = co2_electricity_t(kwh, factor_year).co2_t
                notes.append(
                    f"electricity CO2 uses the {grid_factor(factor_year).factor_id} grid factor"
                )
            elif i.carrier in ("steam", "heat") and i.unit == "GJ":
                t = co2_heat_t(i.quantity).co2_t
            elif i.carrier in fuels:
                t = co2_combustion_t(fuels[i.carrier], i.quantity, i.unit).co2_t
            else:
                continue
        except KilnwatchError as exc:
            notes.append(f"{i.meter_code}: no CO2 ({exc.message})")
            continue
        by_source_t[i.carrier] = by_source_t.get(i.carrier, 0.0) + t
        total += t
    return total


def _classify(acc: UnitAccount, period: Period) -> None:
    if acc.intensity is None or acc.production is None:
        return
    annual_output = acc.production * 365.0 / period.days
    try:
        c = classify(
            acc.level_field,
            acc.intensity,
            variant=acc.level_variant,
            output_per_year=annual_output,
        )
    except KilnwatchError as exc:
        acc.notes.append(f"not classified: {exc.message}")
        return
    acc.class_, acc.class_table, acc.class_basis = c.class_, c.class_table, c.class_basis
    acc.legal_breach = c.legal_breach
    if c.class_ is None:
        acc.notes.append("no confirmed level for this field")
        return
    wanted = "grade3" if c.class_basis == "gb_grade" else "baseline"
    for level in c.levels:
        if level.table_id == c.class_table and level.level == wanted:
            acc.gap_to_baseline_tce_per_year = level.gap_tce_per_year


def _intensity(acc: UnitAccount, energy_kgce_total: float, electricity_kwh: float) -> None:
    unit = field_def(acc.level_field).unit
    acc.intensity_unit = unit
    if not acc.production:
        acc.notes.append("no production metered in the period")
        return
    try:
        acc.intensity = field_intensity(
            unit,
            acc.production,
            energy_kgce=energy_kgce_total,
            electricity_kwh=electricity_kwh,
            output_unit=acc.production_unit,
        )
    except KilnwatchError as exc:
        acc.notes.append(f"no intensity: {exc.message}")


def unit_account(
    unit: ProductionUnit,
    meters: Sequence[Meter],
    totals: dict[int, float],
    counts: dict[int, int],
    period: Period,
) -> UnitAccount:
    """The account of one unit from its meters' totals over ``period``."""
    e = unit.enterprise
    spec = load_processes()[unit.process]
    acc = UnitAccount(
        unit.id,
        unit.code,
        e.id,
        e.uscc,
        e.name,
        e.region_code,
        e.industry,
        unit.process,
        spec.level_field,
        unit.level_variant,
        unit.capacity,
        unit.capacity_unit,
        period.label,
    )
    product_carrier = f"product:{spec.product}"
    energy: list[MeterInput] = []
    production = 0.0
    for m in _top_meters(meters):
        if m.id not in totals:
            continue
        item = MeterInput(m.code, m.carrier, totals[m.id], m.unit_of_measure, counts[m.id])
        if m.carrier == product_carrier:
            production += item.quantity
            acc.production_unit = m.unit_of_measure
            acc.inputs.append(item)
        elif m.measurement != "instant" and not m.carrier.startswith("product:"):
            energy.append(item)
            acc.inputs.append(item)
    acc.production = production if acc.production_unit else None
    kgce = energy_kgce_of(energy, acc.notes)
    if kgce is not None:
        acc.energy_tce = kgce / 1000.0
        kwh = sum(convert(i.quantity, i.unit, "kWh") for i in energy if i.carrier == "electricity")
        _intensity(acc, kgce, kwh)
        _classify(acc, period)
    acc.co2_t = co2_of(energy, period.year, acc.notes, acc.co2_by_source_t)
    return acc


def unit_accounts(session: Session, principal: Principal, period: Period) -> list[UnitAccount]:
    """Accounts of every production unit the principal may see."""
    units = session.scalars(
        select(ProductionUnit)
        .where(owned_by_visible_enterprise(ProductionUnit.enterprise_id, principal))
        .order_by(ProductionUnit.enterprise_id, ProductionUnit.code)
    ).all()
    by_unit: dict[int, list[Meter]] = defaultdict(list)
    unit_ids = [u.id for u in units]
    for m in session.scalars(select(Meter).where(Meter.unit_id.in_(unit_ids))):
        by_unit[m.unit_id or 0].append(m)
    meter_ids = [m.id for ms in by_unit.values() for m in ms]
    raw = meter_totals(session, meter_ids, "month", period.start, period.end)
    totals = {k: v.sum for k, v in raw.items()}
    counts = {k: v.count for k, v in raw.items()}
    return [unit_account(u, by_unit[u.id], totals, counts, period) for u in units]


def _group_key(acc: UnitAccount, by: str) -> str:
    if by == "enterprise":
        return acc.enterprise_uscc
    if by == "city":
        return acc.region_code[:4] + "00"
    if by == "industry":
        return acc.industry
    return acc.region_code[:2] + "0000"


def group_accounts(
    session: Session, accounts: Iterable[UnitAccount], by: str, locale: str = "zh-CN"
) -> list[GroupAccount]:
    """Aggregate unit accounts by ``enterprise``, ``city``, ``industry`` or ``province``,
    with the capacity-weighted share of units at benchmark against the 2025 target."""
    groups: dict[str, list[UnitAccount]] = defaultdict(list)
    for acc in accounts:
        groups[_group_key(acc, by)].append(acc)
    names = _group_names(session, by, groups, locale)
    result = []
    for key, members in sorted(groups.items()):
        g = GroupAccount(key, names.get(key, key), units=len(members))
        g.energy_tce = sum(a.energy_tce or 0.0 for a in members)
        g.co2_t = sum(a.co2_t or 0.0 for a in members)
        classified = [a for a in members if a.class_ is not None]
        g.units_classified = len(classified)
        g.units_below_baseline = sum(a.class_ == "below_baseline" for a in classified)
        if classified:
            share = share_at_benchmark([(a.capacity, a.class_) for a in classified])
            g.capacity_share_at_benchmark_fraction = share.share_fraction
            g.target_fraction, g.meets_target = share.target_fraction, share.meets_target
        result.append(g)
    return result


def _group_names(
    session: Session, by: str, groups: dict[str, list[UnitAccount]], locale: str
) -> dict[str, str]:
    en = locale == "en"
    if by == "enterprise":
        return {k: v[0].enterprise_name for k, v in groups.items()}
    if by == "industry":
        industries = load_industries()
        return {
            k: (industries[k].name_en if en else industries[k].name_zh)
            for k in groups
            if k in industries
        }
    regions = session.scalars(select(Region).where(Region.code.in_(list(groups))))
    return {r.code: (r.name_en or r.name_zh) if en else r.name_zh for r in regions}


__all__ = [
    "GroupAccount",
    "MeterInput",
    "UnitAccount",
    "group_accounts",
    "unit_account",
    "unit_accounts",
]
