"""Policy tables of "两高" project control: capacity replacement ratios (产能置换), coal
consumption substitution ratios (煤炭消费减量替代) and the cities of the key air-pollution
control region (大气污染防治重点区域) whose stricter ratios apply.

Every row names its document, the stored source it was read from and a confidence; a ratio
no stored source gives is left empty with ``confidence=low`` and the reason in ``notes``
(never a guessed number).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from kilnwatch.reference._csv import Confidence, keyed, read_table

_PKG = "kilnwatch.reference.projects"
REGION_CLASSES = ("key", "other")


@dataclass(frozen=True)
class ReplacementRatio:
    """Capacity to retire per unit of new capacity for one kind of capacity and region class;
    ``ratio`` None when not sourced, ``prohibited`` when no new capacity may be built."""

    kind: str
    region_class: str
    name_zh: str
    name_en: str
    ratio: float | None
    prohibited: bool
    document: str
    source: str
    confidence: Confidence
    notes: str


@dataclass(frozen=True)
class KeyRegionCity:
    """A city (four-digit GB/T 2260 prefix) inside the key air-pollution control region."""

    city_code: str
    name_zh: str
    region: str
    source: str
    confidence: Confidence
    notes: str


@dataclass(frozen=True)
class CoalSubstitutionRatio:
    """Coal to substitute [t] per tonne of new coal consumption, by region class."""

    region_class: str
    ratio: float
    document: str
    source: str
    confidence: Confidence
    notes: str


@dataclass(frozen=True)
class ChecklistItem:
    """An item of the monthly on-site supervision checklist."""

    item: str
    name_zh: str
    name_en: str
    source: str
    confidence: Confidence
    notes: str


@cache
def load_site_checklist() -> tuple[ChecklistItem, ...]:
    """``site_checklist.csv``: the items of a monthly on-site supervision, in file order."""
    return read_table(_PKG, "site_checklist.csv", ChecklistItem)


@cache
def load_replacement_ratios() -> Mapping[tuple[str, str], ReplacementRatio]:
    """``replacement_ratios.csv`` keyed by (kind, region class)."""
    rows = read_table(_PKG, "replacement_ratios.csv", ReplacementRatio)
    return keyed(rows, lambda r: (r.kind, r.region_class))


@cache
def load_key_region_cities() -> Mapping[str, KeyRegionCity]:
    """``key_region_cities.csv`` keyed by four-digit city code."""
    return keyed(read_table(_PKG, "key_region_cities.csv", KeyRegionCity), lambda r: r.city_code)


@cache
def load_coal_substitution_ratios() -> Mapping[str, CoalSubstitutionRatio]:
    """``coal_substitution_ratios.csv`` keyed by region class."""
    rows = read_table(_PKG, "coal_substitution_ratios.csv", CoalSubstitutionRatio)
    return keyed(rows, lambda r: r.region_class)


def region_class_of(region_code: str) -> str:
    """``key`` when the division lies in a key-region city, else ``other``."""
    return "key" if region_code[:4] in load_key_region_cities() else "other"


def replacement_kinds() -> tuple[str, ...]:
    """The kinds of capacity the replacement table knows, in file order."""
    return tuple(dict.fromkeys(kind for kind, _ in load_replacement_ratios()))


__all__ = [
    "REGION_CLASSES",
    "ChecklistItem",
    "CoalSubstitutionRatio",
    "KeyRegionCity",
    "ReplacementRatio",
    "load_coal_substitution_ratios",
    "load_key_region_cities",
    "load_site_checklist",
    "load_replacement_ratios",
    "region_class_of",
    "replacement_kinds",
]
