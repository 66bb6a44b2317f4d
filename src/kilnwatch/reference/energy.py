"""Load the unit and standard-coal tables (``load_*`` verb, cached, read with importlib.resources).

Tables (in ``kilnwatch/reference/``):

- ``units.csv``: unit keys, their dimension and factor to the dimension's base unit.
- ``energy/standard_coal_coefficients.csv``: GB/T 2589 reference coefficients [kgce/unit].
- ``energy/constants.csv``: the heat value of 1 kgce [kJ/kgce].
- ``energy/electricity_equal_value.csv``: electricity 等价值 by year [kgce/kWh] (empty so far).

Every row carries ``source`` and ``confidence`` (good/medium/low).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Literal, TypeVar

from kilnwatch.errors import ReferenceDataError
from kilnwatch.reference._csv import read_package_csv

PACKAGE = "kilnwatch.reference"
V = TypeVar("V")
Confidence = Literal["good", "medium", "low"]
CONFIDENCES: tuple[Confidence, ...] = ("good", "medium", "low")


def parse_confidence(text: str, where: str) -> Confidence:
    """The confidence grade of a reference row; a table without one is malformed."""
    for grade in CONFIDENCES:
        if text == grade:
            return grade
    raise ReferenceDataError(f"{where}: confidence must be good/medium/low, got {text!r}")


def parse_optional_float(text: str, where: str) -> float | None:
    """A numeric cell, or None for an empty (unconfirmed) cell."""
    if text == "":
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise ReferenceDataError(f"{where}: not a number: {text!r}") from exc


def parse_float(text: str, where: str) -> float:
    """A numeric cell that must be present."""
    value = parse_optional_float(text, where)
    if value is None:
        raise ReferenceDataError(f"{where}: value is required")
    return value


def require_source(row: Mapping[str, str], where: str) -> str:
    """The ``source`` cell, which every reference row must have."""
    source = row.get("source", "")
    if not source:
        raise ReferenceDataError(f"{where}: source is required")
    return source


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
    kgce_range: tuple[float, float] | None
    reference_lhv_kj_per_unit: float | None
    source: str
    confidence: Confidence
    notes: str


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


def _where(name: str, index: int) -> str:
    return f"{PACKAGE}/{name}, row {index}"


@cache
def load_units() -> Mapping[str, UnitDef]:
    """Unit keys from ``units.csv``, keyed by unit."""
    name = "units.csv"
    units: dict[str, UnitDef] = {}
    for i, row in enumerate(read_package_csv(PACKAGE, name), start=1):
        where = _where(name, i)
        units[row["unit"]] = UnitDef(
            unit=row["unit"],
            dimension=row["dimension"],
            factor_to_base=parse_float(row["factor_to_base"], where),
            base_unit=row["base_unit"],
            name_zh=row["name_zh"],
            source=require_source(row, where),
            confidence=parse_confidence(row["confidence"], where),
        )
    return MappingProxyType(units)


def _coefficient(row: Mapping[str, str], where: str) -> CoalCoefficient:
    low = parse_optional_float(row["kgce_range_low"], where)
    high = parse_optional_float(row["kgce_range_high"], where)
    return CoalCoefficient(
        carrier=row["carrier"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        unit=row["unit"],
        kgce_per_unit=parse_optional_float(row["kgce_per_unit"], where),
        kgce_range=(low, high) if low is not None and high is not None else None,
        reference_lhv_kj_per_unit=parse_optional_float(row["reference_lhv_kj_per_unit"], where),
        source=require_source(row, where),
        confidence=parse_confidence(row["confidence"], where),
        notes=row.get("notes", ""),
    )


@cache
def load_coal_coefficients() -> tuple[CoalCoefficient, ...]:
    """GB/T 2589 reference coefficients, one row per (carrier, unit)."""
    name = "energy/standard_coal_coefficients.csv"
    rows = read_package_csv(PACKAGE, name)
    return tuple(_coefficient(row, _where(name, i)) for i, row in enumerate(rows, start=1))


@cache
def load_energy_constants() -> Mapping[str, Constant]:
    """Energy constants (e.g. ``kj_per_kgce``), keyed by name."""
    name = "energy/constants.csv"
    constants: dict[str, Constant] = {}
    for i, row in enumerate(read_package_csv(PACKAGE, name), start=1):
        where = _where(name, i)
        constants[row["name"]] = Constant(
            name=row["name"],
            value=parse_float(row["value"], where),
            unit=row["unit"],
            source=require_source(row, where),
            confidence=parse_confidence(row["confidence"], where),
        )
    return MappingProxyType(constants)


@cache
def load_electricity_equal_values() -> Mapping[int, EqualValue]:
    """Electricity 等价值 [kgce/kWh] by year; empty while no year is sourced."""
    name = "energy/electricity_equal_value.csv"
    values: dict[int, EqualValue] = {}
    for i, row in enumerate(read_package_csv(PACKAGE, name), start=1):
        where = _where(name, i)
        year = int(parse_float(row["year"], where))
        values[year] = EqualValue(
            year=year,
            kgce_per_kwh=parse_float(row["kgce_per_kwh"], where),
            source=require_source(row, where),
            confidence=parse_confidence(row["confidence"], where),
        )
    return MappingProxyType(values)


def sourced_values(
    name: str, key: str, value: Callable[[Mapping[str, str], str], V]
) -> Mapping[str, V]:
    """``row[key]`` -> ``value(row, where)`` for every row of the sourced table ``name``, each
    row's source and confidence checked (``where`` locates the row in errors)."""
    values: dict[str, V] = {}
    for i, row in enumerate(read_package_csv(PACKAGE, name), start=1):
        where = _where(name, i)
        require_source(row, where)
        parse_confidence(row["confidence"], where)
        values[row[key]] = value(row, where)
    return MappingProxyType(values)


@cache
def load_densities() -> Mapping[str, float]:
    """Densities [t/m3] of liquids metered by volume, keyed by carrier (``densities.csv``)."""
    return sourced_values(
        "energy/densities.csv",
        "carrier",
        lambda row, where: parse_float(row["density_t_per_m3"], where),
    )
