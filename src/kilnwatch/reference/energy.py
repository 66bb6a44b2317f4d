"""Load the unit and standard-coal tables (``load_*`` verb, cached, read with importlib.resources).

Tables (in ``kilnwatch/reference/``):

- ``units.csv``: unit keys, their dimension and factor to the dimension's base unit.
- ``energy/standard_coal_coefficients.csv``: GB/T 2589 reference coefficients [kgce/unit].
- ``energy/constants.csv``: the heat value of 1 kgce [kJ/kgce].
- ``energy/electricity_equal_value.csv``: electricity 等价值 by year [kgce/kWh] (empty so far).

Every row carries ``source`` and ``confidence`` (good/medium/low).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from kilnwatch.reference._csv import Confidence, keyed, read_table

PACKAGE = "kilnwatch.reference"


@dataclass(frozen=True)
class UnitDef:
    """A unit key: ``value [unit] * factor_to_base = value [base_unit]``."""

    unit: str
    dimension: str
    factor_to_base: float
    base_unit: str
    name_zh: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class CoalCoefficient:
    """One GB/T 2589 reference row: ``kgce_per_unit`` [kgce/unit] for a carrier measured in
    ``unit``; None when no point value is confirmed (then a measured heat value is needed)."""

    carrier: str
    name_zh: str
    name_en: str
    unit: str
    kgce_per_unit: float | None
    kgce_range_low: float | None
    kgce_range_high: float | None
    reference_lhv_kj_per_unit: float | None
    source: str
    confidence: Confidence
    notes: str = ""

    @property
    def kgce_range(self) -> tuple[float, float] | None:
        """The tabulated range [kgce/unit] where the standard gives one instead of a value."""
        low, high = self.kgce_range_low, self.kgce_range_high
        return (low, high) if low is not None and high is not None else None


@dataclass(frozen=True)
class EqualValue:
    """Electricity 等价值 for one year [kgce/kWh]."""

    year: int
    kgce_per_kwh: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class Constant:
    """A named reference constant with its unit and source."""

    name: str
    value: float
    unit: str
    source: str
    confidence: Confidence


@cache
def load_units() -> Mapping[str, UnitDef]:
    """Unit keys of ``units.csv``, keyed by unit.

    Each unit has a dimension (mass, volume, energy, coal_equivalent ...) and
    ``factor_to_base`` to its dimension's base unit (kg, m3, MJ, kgce ...).
    """
    return keyed(read_table(PACKAGE, "units.csv", UnitDef), lambda u: u.unit)


@cache
def load_coal_coefficients() -> tuple[CoalCoefficient, ...]:
    """GB/T 2589 reference coefficients of ``energy/standard_coal_coefficients.csv``.

    One row per (carrier, unit), in file order: ``kgce_per_unit`` [kgce/unit], or a range
    where the standard gives one, and the reference low heat value [kJ/unit] where seen.
    """
    return read_table(PACKAGE, "energy/standard_coal_coefficients.csv", CoalCoefficient)


@cache
def load_energy_constants() -> Mapping[str, Constant]:
    """Energy constants of ``energy/constants.csv``, keyed by name.

    ``kj_per_kgce``: the low heat value of 1 kgce [kJ/kgce] by the GB/T 2589 definition;
    ``kj_per_kgoe``: the heat value of 1 kgoe [kJ/kgoe] (IEA/OECD oil equivalent).
    """
    return keyed(read_table(PACKAGE, "energy/constants.csv", Constant), lambda c: c.name)


@cache
def load_electricity_equal_values() -> Mapping[int, EqualValue]:
    """Electricity 等价值 [kgce/kWh] by year (``energy/electricity_equal_value.csv``).

    Empty while no year is sourced; the calculation then asks the caller for the value.
    """
    rows = read_table(PACKAGE, "energy/electricity_equal_value.csv", EqualValue)
    return keyed(rows, lambda v: v.year)


@dataclass(frozen=True)
class Density:
    """The density of a carrier metered by volume but converted per tonne [t/m3]."""

    carrier: str
    density_t_per_m3: float
    source: str
    confidence: Confidence
    notes: str | None


@cache
def load_densities() -> Mapping[str, float]:
    """Densities [t/m3] of ``energy/densities.csv``, keyed by carrier."""
    rows = read_table(PACKAGE, "energy/densities.csv", Density)
    return MappingProxyType({r.carrier: r.density_t_per_m3 for r in rows})


@dataclass(frozen=True)
class CoalCarrier:
    """A carrier counted in coal consumption (煤炭消费量) in physical tonnes."""

    carrier: str
    source: str
    confidence: Confidence
    notes: str | None


@cache
def load_coal_carriers() -> frozenset[str]:
    """Carriers counted in coal consumption (``energy/coal_carriers.csv``)."""
    return frozenset(
        r.carrier for r in read_table(PACKAGE, "energy/coal_carriers.csv", CoalCarrier)
    )
