"""Energy, efficiency and carbon accounts per production unit, from the monthly rollups.

References
----------
.. [1] GB/T 2589-2020, 综合能耗计算通则: comprehensive energy consumption and unit product
   energy consumption.
.. [2] 发改产业〔2021〕1609号 / 〔2023〕723号, and the GB limit standards, for the levels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from kilnwatch.accounting.inputs import MeterInput, co2_of, energy_kgce_of
from kilnwatch.domain import classify, field_def, field_intensity
from kilnwatch.domain.energy import kgce_per_kgoe, refinery_intensity
from kilnwatch.domain.periods import Period
from kilnwatch.domain.units import convert
from kilnwatch.errors import KilnwatchError
from kilnwatch.identity import Principal
from kilnwatch.reference.levels import LevelTable
from kilnwatch.reference.registry import load_processes
from kilnwatch.store.models import EnergyFactor, Meter, ProductionUnit
from kilnwatch.store.repos.rollups import meter_totals
from kilnwatch.store.repos.scope import owned_by_visible_enterprise


@dataclass
class UnitAccount:
    """A production unit's energy [tce], unit product energy consumption (``intensity``, in
    the unit of its level field), efficiency class, CO2 [t] and the inputs behind them."""

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
    """Product output metered in the period [``production_unit``]."""
    production_unit: str | None = None
    energy_tce: float | None = None
    """Comprehensive energy consumption (GB/T 2589) of the unit's top meters [tce]."""
    intensity: float | None = None
    """Unit product energy consumption [``intensity_unit``, the unit of ``level_field``]."""
    intensity_unit: str | None = None
    class_: str | None = None
    """Efficiency class (see :class:`kilnwatch.domain.levels.Classification`)."""
    class_table: str | None = None
    class_basis: str | None = None
    legal_breach: bool | None = None
    """Worse than grade 3 of a GB limit standard (None: no GB table could tell)."""
    gap_to_baseline_tce_per_year: float | None = None
    co2_t: float | None = None
    co2_by_source_t: dict[str, float] = field(default_factory=dict)
    inputs: list[MeterInput] = field(default_factory=list)
    """The meter totals every figure was computed from."""
    notes: list[str] = field(default_factory=list)
    """Why a figure is missing, and which factor was used."""
    energy_factor: float | None = None
    """The refinery energy factor (能量因数) in force at the period's end, if recorded."""
    unclassified_code: str | None = None
    """Why the unit has no class: one of :data:`UNCLASSIFIED_CODES`; None when classified."""


UNCLASSIFIED_CODES = {
    "level.unclassified.no_energy_data": "no energy consumption could be computed",
    "level.unclassified.no_production": "no production metered in the period",
    "level.unclassified.no_energy_factor": "refinery without a recorded energy factor",
    "level.unclassified.no_intensity": "the intensity cannot be put in the field's unit",
    "level.unclassified.no_confirmed_level": "no table has a confirmed level for the field",
    "level.unclassified.variant_needed": "the tables distinguish sub-types: the unit has none",
    "level.unclassified.not_classifiable": "the classification refused the value",
}
"""Stable codes of why a unit has no efficiency class, with their English meaning."""


def _top_meters(meters: Sequence[Meter]) -> list[Meter]:
    """A unit's meters whose parent is not itself a meter of the unit with the same carrier,
    so that equipment meters under a sub-unit meter are not counted twice."""
    ids = {(m.id, m.carrier) for m in meters}
    return [m for m in meters if (m.parent_meter_id, m.carrier) not in ids]


def _classify(acc: UnitAccount, period: Period, tables: Sequence[LevelTable] | None = None) -> None:
    if acc.intensity is None or acc.production is None:
        return
    annual_output = acc.production * 365.0 / period.days
    try:
        c = classify(
            acc.level_field,
            acc.intensity,
            variant=acc.level_variant,
            output_per_year=annual_output,
            tables=tables,
        )
    except KilnwatchError as exc:
        acc.notes.append(f"not classified: {exc.message}")
        acc.unclassified_code = "level.unclassified.not_classifiable"
        return
    acc.class_, acc.class_table, acc.class_basis = c.class_, c.class_table, c.class_basis
    acc.legal_breach = c.legal_breach
    if c.class_ is None:
        if c.no_confirmed_level:
            acc.notes.append("no confirmed level for this field")
            acc.unclassified_code = "level.unclassified.no_confirmed_level"
        else:
            acc.notes.append("the level tables need a sub-type (variant) the unit does not have")
            acc.unclassified_code = "level.unclassified.variant_needed"
        return
    wanted = "grade3" if c.class_basis == "gb_grade" else "baseline"
    for level in c.levels:
        if level.table_id == c.class_table and level.level == wanted:
            acc.gap_to_baseline_tce_per_year = level.gap_tce_per_year


ENERGY_FACTOR = "energy_factor"
NO_ENERGY_FACTOR = (
    "no intensity: the field is per tonne and energy factor (能量因数, GB 30251-2024) in kgoe "
    "and no energy factor is recorded for this refinery (`kilnwatch programme energy-factor`, "
    "or the programme page)"
)
"""Why a refinery has no metered intensity: its energy factor is not recorded."""


def _intensity(acc: UnitAccount, energy_kgce_total: float, electricity_kwh: float) -> None:
    unit = field_def(acc.level_field).unit
    acc.intensity_unit = unit
    if not acc.production:
        acc.notes.append("no production metered in the period")
        acc.unclassified_code = "level.unclassified.no_production"
        return
    try:
        if ENERGY_FACTOR not in unit:
            acc.intensity = field_intensity(
                unit,
                acc.production,
                energy_kgce=energy_kgce_total,
                electricity_kwh=electricity_kwh,
                output_unit=acc.production_unit,
            )
        elif acc.energy_factor is None:
            acc.notes.append(NO_ENERGY_FACTOR)
            acc.unclassified_code = "level.unclassified.no_energy_factor"
        else:
            crude_t = convert(acc.production, acc.production_unit or "t", "t")
            acc.intensity = refinery_intensity(energy_kgce_total, crude_t, acc.energy_factor)
            factor, grade = kgce_per_kgoe()
            acc.notes.append(
                f"energy factor {acc.energy_factor:g}; 1 kgoe = {factor:.4f} kgce ({grade})"
            )
    except KilnwatchError as exc:
        acc.notes.append(f"no intensity: {exc.message}")
        acc.unclassified_code = "level.unclassified.no_intensity"


def unit_account(
    unit: ProductionUnit,
    meters: Sequence[Meter],
    totals: dict[int, float],
    counts: dict[int, int],
    period: Period,
    tables: Sequence[LevelTable] | None = None,
    energy_factor: float | None = None,
) -> UnitAccount:
    """The account of one unit from its meters' totals over ``period``, classified against
    ``tables`` (default: the packaged NDRC and GB tables); ``energy_factor`` for refineries."""
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
        energy_factor=energy_factor,
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
        _classify(acc, period, tables)
    else:
        acc.unclassified_code = "level.unclassified.no_energy_data"
    acc.co2_t = co2_of(energy, period.year, acc.notes, acc.co2_by_source_t)
    return acc


def unit_accounts(
    session: Session,
    principal: Principal,
    period: Period,
    tables: Sequence[LevelTable] | None = None,
) -> list[UnitAccount]:
    """Accounts of every production unit the principal may see (classified against
    ``tables``, default the packaged ones)."""
    visible = owned_by_visible_enterprise(ProductionUnit.enterprise_id, principal)
    units = session.scalars(
        select(ProductionUnit)
        .where(visible)
        .options(selectinload(ProductionUnit.enterprise))  # not one query per unit
        .order_by(ProductionUnit.enterprise_id, ProductionUnit.code)
    ).all()
    by_unit: dict[int, list[Meter]] = defaultdict(list)
    # the units' meters as a join, not an IN list of every unit id (a province has thousands)
    of_units = select(Meter).join(ProductionUnit, ProductionUnit.id == Meter.unit_id)
    for m in session.scalars(of_units.where(visible)):
        by_unit[m.unit_id or 0].append(m)
    meter_ids = of_units.where(visible).with_only_columns(Meter.id)
    raw = meter_totals(session, meter_ids, "month", period.start, period.end)
    totals = {k: v.sum for k, v in raw.items()}
    counts = {k: v.count for k, v in raw.items()}
    factors = energy_factors(session, visible, period.stop)
    return [
        unit_account(u, by_unit[u.id], totals, counts, period, tables, factors.get(u.id))
        for u in units
    ]


def energy_factors(
    session: Session, visible: ColumnElement[bool], before: date
) -> dict[int, float]:
    """Each visible refinery's energy factor in force on the day before ``before`` (the newest
    ``valid_from`` before it; a later row never changes an earlier period)."""
    rows = session.execute(
        select(EnergyFactor.unit_id, EnergyFactor.energy_factor)
        .join(ProductionUnit, ProductionUnit.id == EnergyFactor.unit_id)
        .where(visible, EnergyFactor.valid_from < before)
        .order_by(EnergyFactor.valid_from, EnergyFactor.id)
    )
    return {int(row[0]): float(row[1]) for row in rows}


__all__ = [
    "UNCLASSIFIED_CODES",
    "UnitAccount",
    "energy_factors",
    "unit_account",
    "unit_accounts",
]
