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

from kilnwatch.reference._csv import read_package_csv
from kilnwatch.reference.energy import (
    PACKAGE,
    Confidence,
    parse_confidence,
    parse_float,
    require_source,
    sourced_values,
)


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


def _rows(name: str) -> list[tuple[str, dict[str, str]]]:
    rows = read_package_csv(PACKAGE, f"carbon/{name}")
    return [(f"carbon/{name}, row {i}", row) for i, row in enumerate(rows, start=1)]


def _year(text: str, where: str) -> int | None:
    return int(parse_float(text, where)) if text else None


@cache
def load_fuel_factors() -> Mapping[str, FuelFactor]:
    """Fuel combustion defaults keyed by fuel key."""
    factors: dict[str, FuelFactor] = {}
    for where, row in _rows("fuel_factors.csv"):
        factors[row["fuel"]] = FuelFactor(
            fuel=row["fuel"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            ncv_gj_per_unit=parse_float(row["ncv_gj_per_unit"], where),
            unit=row["unit"],
            carbon_tc_per_gj=parse_float(row["carbon_tc_per_gj"], where),
            oxidation_fraction=parse_float(row["oxidation_fraction"], where),
            source=require_source(row, where),
            confidence=parse_confidence(row["confidence"], where),
        )
    return MappingProxyType(factors)


@cache
def load_grid_factors() -> tuple[GridFactor, ...]:
    """Electricity CO2 factors, in file order."""
    return tuple(
        GridFactor(
            factor_id=row["factor_id"],
            kind=row["kind"],
            region=row["region"],
            year=_year(row["year"], where),
            tco2_per_mwh=parse_float(row["tco2_per_mwh"], where),
            source=require_source(row, where),
            confidence=parse_confidence(row["confidence"], where),
        )
        for where, row in _rows("grid_factors.csv")
    )


@cache
def load_heat_factors() -> tuple[HeatFactor, ...]:
    """Purchased-heat CO2 factors, in file order."""
    return tuple(
        HeatFactor(
            factor_id=row["factor_id"],
            year=_year(row["year"], where),
            tco2_per_gj=parse_float(row["tco2_per_gj"], where),
            source=require_source(row, where),
            confidence=parse_confidence(row["confidence"], where),
        )
        for where, row in _rows("heat_factors.csv")
    )


@cache
def load_process_factors() -> Mapping[str, ProcessFactor]:
    """Carbonate calcination factors keyed by material."""
    return MappingProxyType(
        {
            row["material"]: ProcessFactor(
                material=row["material"],
                tco2_per_t=parse_float(row["tco2_per_t"], where),
                source=require_source(row, where),
                confidence=parse_confidence(row["confidence"], where),
            )
            for where, row in _rows("process_factors.csv")
        }
    )


@cache
def load_carbon_constants() -> Mapping[str, float]:
    """Molar masses [g/mol] keyed by name (``molar_mass_co2`` ...)."""
    values: dict[str, float] = {}
    for where, row in _rows("constants.csv"):
        require_source(row, where)
        parse_confidence(row["confidence"], where)
        values[row["name"]] = parse_float(row["value"], where)
    return MappingProxyType(values)


@cache
def load_carrier_fuels() -> Mapping[str, str]:
    """The fuel key of ``fuel_factors.csv`` that an energy carrier burns as, keyed by carrier."""
    return sourced_values("carbon/carrier_fuels.csv", "carrier", lambda row, _where: row["fuel"])
