"""Load carbon-accounting factors (``load_*`` verb, cached, read with importlib.resources).

Tables in ``kilnwatch/reference/carbon/``:

- ``fuel_factors.csv``: default NCV [GJ/unit], carbon content [tC/GJ], oxidation [fraction].
- ``grid_factors.csv``: grid electricity CO2 factors by year and region [tCO2/MWh].
- ``heat_factors.csv``: purchased-heat CO2 factors [tCO2/GJ] (blank year = any year).
- ``process_factors.csv``: carbonate calcination factors [tCO2/t].
- ``constants.csv``: molar masses used in stoichiometric ratios [g/mol].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from kilnwatch.reference._csv import Confidence, keyed, read_table
from kilnwatch.reference.energy import PACKAGE, Constant


@dataclass(frozen=True)
class FuelFactor:
    """GHG-guideline defaults for one fuel; ``ncv_gj_per_unit`` is per ``unit`` (t or 10^4m3)."""

    fuel: str
    name_zh: str
    name_en: str
    ncv_gj_per_unit: float
    unit: str
    carbon_tc_per_gj: float
    oxidation_fraction: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class GridFactor:
    """An electricity CO2 factor [tCO2/MWh]; ``year`` None means the year is not confirmed."""

    factor_id: str
    kind: str
    region: str
    year: int | None
    tco2_per_mwh: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class HeatFactor:
    """A purchased-heat CO2 factor [tCO2/GJ]; ``year`` None applies to any year."""

    factor_id: str
    year: int | None
    tco2_per_gj: float
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class ProcessFactor:
    """A carbonate calcination factor [tCO2/t of carbonate]."""

    material: str
    tco2_per_t: float
    source: str
    confidence: Confidence


@cache
def load_fuel_factors() -> Mapping[str, FuelFactor]:
    """Fuel combustion defaults of ``carbon/fuel_factors.csv``, keyed by fuel key.

    Net calorific value [GJ/t or GJ/10^4 m3], carbon content [tC/GJ] and oxidation
    [fraction], from the default-value table of the 企业温室气体排放核算方法与报告指南.
    """
    return keyed(read_table(PACKAGE, "carbon/fuel_factors.csv", FuelFactor), lambda f: f.fuel)


@cache
def load_grid_factors() -> tuple[GridFactor, ...]:
    """Electricity CO2 factors [tCO2/MWh] of ``carbon/grid_factors.csv``, in file order."""
    return read_table(PACKAGE, "carbon/grid_factors.csv", GridFactor)


@cache
def load_heat_factors() -> tuple[HeatFactor, ...]:
    """Purchased-heat CO2 factors [tCO2/GJ] of ``carbon/heat_factors.csv``, in file order.

    A row without a year applies to every year.
    """
    return read_table(PACKAGE, "carbon/heat_factors.csv", HeatFactor)


@cache
def load_process_factors() -> Mapping[str, ProcessFactor]:
    """Carbonate calcination factors [tCO2/t] of ``carbon/process_factors.csv``, by material."""
    rows = read_table(PACKAGE, "carbon/process_factors.csv", ProcessFactor)
    return keyed(rows, lambda f: f.material)


@cache
def load_carbon_constants() -> Mapping[str, float]:
    """Molar masses [g/mol] keyed by name (``molar_mass_co2`` ...)."""
    rows = read_table(PACKAGE, "carbon/constants.csv", Constant)
    return MappingProxyType({c.name: c.value for c in rows})


@dataclass(frozen=True)
class CarrierFuel:
    """The fuel of ``fuel_factors.csv`` that an energy carrier burns as."""

    carrier: str
    fuel: str
    source: str
    confidence: Confidence
    notes: str | None


@cache
def load_carrier_fuels() -> Mapping[str, str]:
    """The fuel key of ``fuel_factors.csv`` that an energy carrier burns as, keyed by carrier."""
    rows = read_table(PACKAGE, "carbon/carrier_fuels.csv", CarrierFuel)
    return MappingProxyType({r.carrier: r.fuel for r in rows})
