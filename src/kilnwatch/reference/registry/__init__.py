"""Registry reference tables: Shandong regions (GB/T 2260), industries (GB/T 4754), processes.

Each process fixes its product, the product's unit, the unit of its capacity and the
efficiency-level field (``level_field``) its unit energy consumption is judged against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from kilnwatch.reference._csv import keyed, read_table

_PKG = "kilnwatch.reference.registry"


@dataclass(frozen=True)
class RegionRow:
    """A GB/T 2260 division of Shandong: province, city or county."""

    code: str
    name_zh: str
    name_en: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class IndustryRow:
    """An industry of the registry with its GB/T 4754 code."""

    industry: str
    gb4754_code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class ProcessRow:
    """A production process: its product, units and efficiency-level field."""

    process: str
    industry: str
    name_zh: str
    name_en: str
    product: str
    product_unit: str
    capacity_unit: str
    level_field: str


@dataclass(frozen=True)
class MeasuredQuantityRow:
    """A non-energy quantity a meter may measure, with its HJ 212 code."""

    quantity: str
    name_zh: str
    name_en: str
    dimension: str
    hj212_code: str


@cache
def load_regions() -> tuple[RegionRow, ...]:
    """Shandong's divisions of ``regions_shandong.csv``, in file order.

    Six-digit GB/T 2260 codes at province, city and county level; ``parent_code`` is the
    enclosing division (None for the province).
    """
    return read_table(_PKG, "regions_shandong.csv", RegionRow)


@cache
def load_industries() -> Mapping[str, IndustryRow]:
    """Industries of ``industries.csv`` with their GB/T 4754 code, keyed by industry key."""
    return keyed(read_table(_PKG, "industries.csv", IndustryRow), lambda r: r.industry)


@cache
def load_processes() -> Mapping[str, ProcessRow]:
    """Processes of ``processes.csv``, keyed by process key.

    Each fixes its product, the product's unit, the unit of its capacity and the
    efficiency-level field (``levels/fields.csv``) its unit energy consumption is judged by.
    """
    return keyed(read_table(_PKG, "processes.csv", ProcessRow), lambda r: r.process)


@cache
def load_measured_quantities() -> Mapping[str, MeasuredQuantityRow]:
    """Non-energy quantities a meter may measure (pollutants, flue gas, wastewater)."""
    rows = read_table(_PKG, "measured_quantities.csv", MeasuredQuantityRow)
    return keyed(rows, lambda r: r.quantity)


def meter_carrier_problem(carrier: str, known_energy_carriers: frozenset[str]) -> str | None:
    """Why ``carrier`` is not something a meter can measure, or None.

    A meter measures an energy carrier (GB/T 2589 table), a product output
    (``product:<product>`` of a process) or a quantity of ``measured_quantities.csv``.
    """
    if carrier.startswith("product:"):
        products = {p.product for p in load_processes().values()}
        product = carrier.removeprefix("product:")
        return None if product in products else f"unknown product {product!r}"
    if carrier in known_energy_carriers or carrier in load_measured_quantities():
        return None
    return f"unknown carrier {carrier!r} (an energy carrier, product:<product> or a pollutant)"
