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
