"""The sourced tables of supervision (``reference/supervise/``): departments, the ten items of
the joint-inspection checklist, quota kinds, the sources an item may come from and the planning
defaults. Each row carries its source and confidence; nothing here is a magic number."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from kilnwatch.errors import InputError
from kilnwatch.reference import Confidence, keyed, read_parameters, read_table

PACKAGE = "kilnwatch.reference.supervise"


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str
    lead: bool
    source: str
    confidence: Confidence
    rationale: str


@dataclass(frozen=True)
class InspectionItem:
    """One of the ten checklist items; ``department`` owns its result ("谁考核、谁掌握数据")."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    department: str
    platform_figure: str | None
    source: str
    confidence: Confidence
    rationale: str


@dataclass(frozen=True)
class Quota:
    code: str
    name_zh: str
    name_en: str
    unit: str
    source: str
    confidence: Confidence
    rationale: str


@dataclass(frozen=True)
class Source:
    code: str
    name_zh: str
    name_en: str
    source: str
    confidence: Confidence
    rationale: str


@cache
def load_departments() -> Mapping[str, Department]:
    return keyed(read_table(PACKAGE, "departments.csv", Department), lambda d: d.code)


@cache
def load_inspection_items() -> Mapping[str, InspectionItem]:
    return keyed(read_table(PACKAGE, "inspection_items.csv", InspectionItem), lambda i: i.code)


@cache
def load_quotas() -> Mapping[str, Quota]:
    return keyed(read_table(PACKAGE, "quotas.csv", Quota), lambda q: q.code)


@cache
def load_sources() -> Mapping[str, Source]:
    return keyed(read_table(PACKAGE, "sources.csv", Source), lambda s: s.code)


@cache
def load_planning() -> Mapping[str, float]:
    return read_parameters(PACKAGE, "planning.csv")


def planning(parameter: str) -> float:
    return load_planning()[parameter]


def lead_department() -> str:
    """The department that owns what no other department was named for (工业和信息化)."""
    return next(d.code for d in load_departments().values() if d.lead)


def check_department(code: str, field: str = "department") -> str:
    if code not in load_departments():
        raise InputError(f"unknown department {code!r}; one of {sorted(load_departments())}",
                         field=field)  # fmt: skip
    return code


def check_source(code: str, field: str = "source_code") -> str:
    if code not in load_sources():
        raise InputError(f"unknown source {code!r}; one of {sorted(load_sources())}", field=field)
    return code


def check_quota(code: str, field: str = "quota") -> Quota:
    quota = load_quotas().get(code)
    if quota is None:
        raise InputError(f"unknown quota {code!r}; one of {sorted(load_quotas())}", field=field)
    return quota
