"""Physics parameters of each process, loaded from the sourced tables in ``reference/sim/``.

Each :class:`ProcessSpec` says what a production unit of a process consumes and emits. The
tables (every row with ``source`` and ``confidence``; see ``reference/sim/README.md``):

- ``processes.csv``: capacity range, load shape, stops, water, whether the product is sold;
- ``process_carriers.csv``: the share of the energy indicator per carrier;
- ``process_materials.csv``: raw material per tonne of product;
- ``process_stacks.csv``: flue gas and concentrations at rated load;
- ``process_anchors.csv``: which efficiency-level row anchors a unit's indicator (the values
  themselves are read from ``reference/levels/``, the one home of level figures);
- ``constants.csv``: the mass of a weight box (``prices.csv``: see :mod:`.assumptions`).

Everything but the anchors is a **modelling choice** (plausible orders of magnitude, not
published figures), and the ``source`` column of each row says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import cache
from typing import Any, Protocol, TypeVar, cast

from kilnwatch.domain.energy import coefficient_for
from kilnwatch.domain.units import convert
from kilnwatch.errors import NoConfirmedValueError, ReferenceDataError
from kilnwatch.reference import Confidence, keyed, read_table
from kilnwatch.reference.energy import Constant
from kilnwatch.reference.levels import load_level_tables
from kilnwatch.reference.registry import ProcessRow, load_processes
from kilnwatch.sim.assumptions import load_base_prices

PACKAGE = "kilnwatch.reference"
WEIGHT_BOX = "weight_box"


@dataclass(frozen=True)
class Anchor:
    """Advanced (benchmark / grade 1) and limit (baseline / grade 3) level of an indicator."""

    indicator: str  # "kgce/t", "kWh/t", "gce/kWh", "kgce/weight_box"
    advanced: float
    limit: float
    source: str
    variant: str = ""  # the variant written for the unit (empty: none)


@dataclass(frozen=True)
class StackSpec:
    """Flue gas of a unit at rated load (synthetic, ultra-low-emission-era magnitudes)."""

    flow_m3_per_product: float  # flue gas per unit of hourly product at rated load [m3/h per (t/h)]
    so2_mg_m3: float
    nox_mg_m3: float
    dust_mg_m3: float
    o2_pct: float


@dataclass(frozen=True)
class ProcessSpec:
    """One process: how a unit of it runs, consumes and emits.

    ``nominal`` is the centre of the indicator [kgce/t] of a process without an anchor and 0.0
    (unused) for an anchored one.
    """

    process: str
    product: str
    product_unit: str
    capacity_unit: str
    capacity_range: tuple[float, float]  # [capacity_unit]
    carriers: dict[str, float]  # carrier -> share of the energy indicator (sums to 1)
    anchor: Anchor | None  # None: no level row, or the level depends on the capacity
    nominal: float
    idle_fraction: float  # energy use at zero output as a share of rated use
    daily_amp: float  # relative amplitude of the daily load cycle
    daily_peak_h: float  # hour of the daily maximum
    weekly_amp: float  # relative dip on Sundays
    noise_sd: float  # relative load noise per interval
    outages_per_year: float  # unplanned + planned stops per year
    water_m3_per_product: float  # fresh water [m3 per product unit]
    stack: StackSpec | None
    materials_in: dict[str, float] = field(default_factory=dict)  # [t per product unit]
    sold: bool = True
    notes: str = ""


@dataclass(frozen=True)
class _ProcessRow:
    process: str
    capacity_min: float
    capacity_max: float
    nominal_kgce_per_t: float | None
    idle_fraction: float
    daily_amp: float
    daily_peak_h: float
    weekly_amp: float
    noise_sd: float
    outages_per_year: float
    water_m3_per_product: float
    sold: bool
    source: str
    confidence: Confidence
    notes: str


@dataclass(frozen=True)
class _CarrierShare:
    process: str
    carrier: str
    share_fraction: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class _MaterialInput:
    process: str
    material: str
    t_per_t_product: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class _StackRow:
    process: str
    flow_m3_per_product: float
    so2_mg_m3: float
    nox_mg_m3: float
    dust_mg_m3: float
    o2_pct: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class AnchorBand:
    """The anchor of units of ``process`` with ``capacity_above < capacity <= capacity_upto``
    (None: no bound), read from the level row (``standard``, ``field``, ``level_variant``)."""

    process: str
    capacity_above: float | None
    capacity_upto: float | None
    standard: str
    field: str
    level_variant: str
    unit_variant: str
    label: str
    source: str
    confidence: Confidence

    def holds(self, capacity: float) -> bool:
        """True when ``capacity`` [the process's capacity unit] lies in the band."""
        above, upto = self.capacity_above, self.capacity_upto
        return (above is None or capacity > above) and (upto is None or capacity <= upto)


class _PerProcess(Protocol):
    @property
    def process(self) -> str: ...


P = TypeVar("P", bound=_PerProcess)
T = TypeVar("T")


def _per_process(name: str, row_type: type[P]) -> dict[str, list[P]]:
    """The rows of ``sim/<name>`` grouped by process, in file order."""
    grouped: dict[str, list[P]] = {}
    for row in read_table(PACKAGE, f"sim/{name}", row_type):
        grouped.setdefault(row.process, []).append(row)
    return grouped


@cache
def load_sim_constants() -> Mapping[str, Constant]:
    """Named constants of ``sim/constants.csv`` (``t_per_weight_box`` [t/weight_box])."""
    return keyed(read_table(PACKAGE, "sim/constants.csv", Constant), lambda c: c.name)


def t_per_product_unit(unit: str) -> float:
    """Mass of one product unit [t]: a weight box by ``sim/constants.csv``, else by units.csv."""
    if unit == WEIGHT_BOX:
        return load_sim_constants()["t_per_weight_box"].value
    return convert(1.0, unit, "t")


@cache
def kgce_per_metered_unit(carrier: str, unit: str) -> float:
    """The GB/T 2589 coefficient of ``carrier`` per metered ``unit`` [kgce/unit].

    The tabulated coefficient times the unit conversion, multiplied in decimal so that
    0.7143 kgce/kg reads 714.3 kgce/t rather than 714.3000000000001.
    """
    row = coefficient_for(carrier, unit)
    if row.kgce_per_unit is None:
        raise NoConfirmedValueError(f"{carrier!r} has no confirmed GB/T 2589 coefficient")
    factor = convert(1.0, unit, row.unit)
    return float(Decimal(repr(row.kgce_per_unit)) * Decimal(repr(factor)))


def level_anchor(band: AnchorBand) -> Anchor:
    """The grade 1 / grade 3 values of the band's level row, as an :class:`Anchor`."""
    wanted = (band.standard, band.field, band.level_variant)
    for table in load_level_tables():
        for row in table.rows:
            levels = dict(row.levels)
            advanced, limit = levels.get("grade1"), levels.get("grade3")
            found = (table.table_id, row.field, row.variant) == wanted
            if found and advanced is not None and limit is not None:
                return Anchor(row.unit, advanced, limit, band.label, band.unit_variant)
    raise NoConfirmedValueError(
        f"sim/process_anchors.csv: no grade 1 and grade 3 in {band.standard} for "
        f"{band.field!r}, variant {band.level_variant!r}"
    )


@cache
def load_anchor_bands() -> Mapping[str, tuple[tuple[AnchorBand, Anchor], ...]]:
    """Per process, its capacity bands with the anchor each gives, in file order."""
    bands = _per_process("process_anchors.csv", AnchorBand)
    return {p: tuple((band, level_anchor(band)) for band in rows) for p, rows in bands.items()}


def _copy_fields(source: object, target: type[T], **given: object) -> T:
    """A ``target`` dataclass from ``given`` and the same-named attributes of ``source``."""
    names = [f.name for f in fields(cast(Any, target)) if f.name not in given]
    values = {name: getattr(source, name) for name in names if hasattr(source, name)}
    return cast(Callable[..., T], target)(**values, **given)


def _spec(
    row: _ProcessRow,
    registry: ProcessRow,
    carriers: Sequence[_CarrierShare],
    materials: Sequence[_MaterialInput],
    stack: _StackRow | None,
    bands: Sequence[tuple[AnchorBand, Anchor]],
) -> ProcessSpec:
    shares = {c.carrier: c.share_fraction for c in carriers}
    if not math.isclose(sum(shares.values()), 1.0):
        raise ReferenceDataError(f"sim/process_carriers.csv: shares of {row.process!r} != 1")
    if not bands and row.nominal_kgce_per_t is None:
        raise ReferenceDataError(f"sim/processes.csv: {row.process!r} needs an anchor or nominal")
    unbounded = [a for b, a in bands if b.capacity_above is None and b.capacity_upto is None]
    t_per_unit = t_per_product_unit(registry.product_unit) if materials else 1.0
    return _copy_fields(
        row,
        ProcessSpec,
        product=registry.product,
        product_unit=registry.product_unit,
        capacity_unit=registry.capacity_unit,
        capacity_range=(row.capacity_min, row.capacity_max),
        carriers=shares,
        anchor=unbounded[0] if len(bands) == 1 and unbounded else None,
        nominal=row.nominal_kgce_per_t or 0.0,
        stack=None if stack is None else _copy_fields(stack, StackSpec),
        materials_in={m.material: m.t_per_t_product * t_per_unit for m in materials},
    )


@cache
def load_process_specs() -> Mapping[str, ProcessSpec]:
    """Every process of ``sim/processes.csv`` with its carriers, materials, stack and anchor.

    Product, product unit and capacity unit come from ``registry/processes.csv``.

    Raises
    ------
    ReferenceDataError
        A process the registry does not know, carrier shares that do not sum to 1, or a
        process with neither an anchor nor a nominal indicator.
    """
    registry = load_processes()
    carriers = _per_process("process_carriers.csv", _CarrierShare)
    materials = _per_process("process_materials.csv", _MaterialInput)
    stacks = _per_process("process_stacks.csv", _StackRow)
    bands = load_anchor_bands()
    specs: dict[str, ProcessSpec] = {}
    for row in read_table(PACKAGE, "sim/processes.csv", _ProcessRow):
        if row.process not in registry:
            raise ReferenceDataError(f"sim/processes.csv: {row.process!r} is not in the registry")
        specs[row.process] = _spec(
            row,
            registry[row.process],
            carriers.get(row.process, []),
            materials.get(row.process, []),
            next(iter(stacks.get(row.process, [])), None),
            bands.get(row.process, ()),
        )
    return specs


def anchor_for(process: str, capacity: float) -> Anchor | None:
    """The efficiency anchor of a unit of ``process`` with ``capacity``, or None."""
    for band, anchor in load_anchor_bands().get(process, ()):
        if band.holds(capacity):
            return anchor
    return None


PROCESS_SPECS: Mapping[str, ProcessSpec] = load_process_specs()
BASE_PRICES_CNY: Mapping[str, tuple[float, str]] = load_base_prices()
#: Mass of one weight box (重量箱) of flat glass [t]; used only to put glass on trucks.
T_PER_WEIGHT_BOX = t_per_product_unit(WEIGHT_BOX)
