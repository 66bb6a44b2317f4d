"""Registry reference tables: Shandong regions (GB/T 2260), industries (GB/T 4754), processes.

Each process fixes its product, the product's unit, the unit of its capacity and the
efficiency-level field (``level_field``) its unit energy consumption is judged against.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kilnwatch.reference._csv import read_package_csv

_PKG = "kilnwatch.reference.registry"


@dataclass(frozen=True)
class RegionRow:
    code: str
    name_zh: str
    name_en: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class IndustryRow:
    industry: str
    gb4754_code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class ProcessRow:
    process: str
    industry: str
    name_zh: str
    name_en: str
    product: str
    product_unit: str
    capacity_unit: str
    level_field: str


@cache
def load_regions() -> tuple[RegionRow, ...]:
    return tuple(
        RegionRow(
            code=r["code"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            level=r["level"],
            parent_code=r["parent_code"] or None,
        )
        for r in read_package_csv(_PKG, "regions_shandong.csv")
    )


@cache
def load_industries() -> dict[str, IndustryRow]:
    rows = read_package_csv(_PKG, "industries.csv")
    return {
        r["industry"]: IndustryRow(r["industry"], r["gb4754_code"], r["name_zh"], r["name_en"])
        for r in rows
    }


@cache
def load_processes() -> dict[str, ProcessRow]:
    rows = read_package_csv(_PKG, "processes.csv")
    return {
        r["process"]: ProcessRow(
            process=r["process"],
            industry=r["industry"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            product=r["product"],
            product_unit=r["product_unit"],
            capacity_unit=r["capacity_unit"],
            level_field=r["level_field"],
        )
        for r in rows
    }


@dataclass(frozen=True)
class MeasuredQuantityRow:
    quantity: str
    name_zh: str
    name_en: str
    dimension: str
    hj212_code: str


@cache
def load_measured_quantities() -> dict[str, MeasuredQuantityRow]:
    """Non-energy quantities a meter may measure (pollutants, flue gas, wastewater)."""
    rows = read_package_csv(_PKG, "measured_quantities.csv")
    return {
        r["quantity"]: MeasuredQuantityRow(
            r["quantity"], r["name_zh"], r["name_en"], r["dimension"], r["hj212_code"]
        )
        for r in rows
    }


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
