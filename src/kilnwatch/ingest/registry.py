"""Registry import: regions, enterprises, units, projects, gateways and meters from CSV/XLSX.

Formats are documented in ``docs/formats.md``. Every row is validated before anything is
written; a fault is reported as ``FILE, row N, field 'X': reason``. The import is
all-or-nothing unless ``skip_invalid`` is set, in which case valid rows are written and the
rejected ones returned. Rows are upserted by their natural key, so re-importing a file is
harmless. Nothing is committed here: the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.energy import carrier_keys
from kilnwatch.domain.identifiers import region_level, region_parent, uscc_problem
from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.ingest.hj212.model import parse_compat
from kilnwatch.ingest.tables import Table, check_columns
from kilnwatch.reference.energy import load_units
from kilnwatch.reference.levels import load_level_tables
from kilnwatch.reference.registry import load_industries, load_processes, meter_carrier_problem
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Region

KINDS = ("regions", "enterprises", "units", "projects", "gateways", "meters")

COLUMNS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "regions": (frozenset({"code", "name_zh", "level"}), frozenset({"name_en", "parent_code"})),
    "enterprises": (
        frozenset({"uscc", "name", "region_code", "industry"}),
        frozenset({"status"}),
    ),
    "units": (
        frozenset({"enterprise_uscc", "unit_code", "name", "process", "capacity", "capacity_unit"}),
        frozenset({"commissioned_on", "status", "level_variant"}),
    ),
    "projects": (
        frozenset({"enterprise_uscc", "project_code", "name", "stage", "approval_state"}),
        frozenset({"unit_codes"}),
    ),
    "gateways": (
        frozenset({"gateway_code", "enterprise_uscc", "protocol"}),
        frozenset({"mn", "secret", "hj212_compat"}),
    ),
    "meters": (
        frozenset(
            {"meter_code", "enterprise_uscc", "carrier", "level", "measurement", "unit_of_measure"}
        ),
        frozenset(
            {
                "unit_code",
                "parent_meter_code",
                "accuracy_class",
                "calibrated_on",
                "calibration_due_on",
                "gateway_code",
                "hj212_code",
            }
        ),
    ),
}

REGISTRY_ORDER: dict[str, tuple[str, ...]] = {
    # The canonical column order of each registry file (export, simulator); secrets excluded.
    "regions": ("code", "name_zh", "name_en", "level", "parent_code"),
    "enterprises": ("uscc", "name", "region_code", "industry", "status"),
    "units": (
        "enterprise_uscc",
        "unit_code",
        "name",
        "process",
        "capacity",
        "capacity_unit",
        "commissioned_on",
        "status",
        "level_variant",
    ),
    "projects": (
        "enterprise_uscc",
        "project_code",
        "name",
        "stage",
        "approval_state",
        "unit_codes",
    ),
    "gateways": ("gateway_code", "enterprise_uscc", "protocol", "mn", "hj212_compat"),
    "meters": (
        "meter_code",
        "enterprise_uscc",
        "unit_code",
        "carrier",
        "level",
        "parent_meter_code",
        "measurement",
        "unit_of_measure",
        "accuracy_class",
        "calibrated_on",
        "calibration_due_on",
        "gateway_code",
        "hj212_code",
    ),
}

assert all(set(REGISTRY_ORDER[k]) <= COLUMNS[k][0] | COLUMNS[k][1] for k in KINDS)

ENTERPRISE_STATUSES = ("operating", "production_controlled", "shut")
UNIT_STATUSES = ("operating", "production_controlled", "shut", "eliminated")
PROJECT_STAGES = ("new", "under_construction", "existing")
APPROVAL_STATES = ("pending", "approved", "rejected", "not_required")
PROTOCOLS = ("http", "mqtt", "hj212")
METER_LEVELS = ("entry", "sub_unit", "equipment")
MEASUREMENTS = ("counter", "interval", "instant")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


@cache
def level_variants(field: str) -> tuple[str, ...]:
    """The variants any packaged level table distinguishes for ``field``."""
    rows = (r for t in load_level_tables() for r in t.rows if r.field == field and r.variant)
    return tuple(dict.fromkeys(r.variant for r in rows))


@cache
def _energy_carriers() -> frozenset[str]:
    return frozenset(carrier_keys())


@dataclass
class Rejected:
    error: InputError
    row: dict[str, str]


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)


class _Row:
    """Field accessors for one row that collect errors instead of stopping at the first."""

    def __init__(self, table: Table, number: int, raw: dict[str, str]) -> None:
        self.table, self.number, self.raw = table, number, raw
        self.errors: list[InputError] = []

    def fail(self, name: str, reason: str) -> None:
        self.errors.append(InputError(reason, file=self.table.file, row=self.number, field=name))

    def text(self, name: str, *, required: bool = True, max_len: int = 200) -> str:
        value = self.raw.get(name, "")
        if required and not value:
            self.fail(name, "is required")
        elif len(value) > max_len:
            self.fail(name, f"longer than {max_len} characters")
        return value

    def key(self, name: str, *, required: bool = True) -> str:
        value = self.text(name, required=required, max_len=64)
        if value and not _KEY.match(value):
            self.fail(name, f"{value!r} is not a code (letters, digits, _ . -)")
        return value

    def choice(self, name: str, choices: Iterable[str], default: str | None = None) -> str:
        value = self.raw.get(name, "") or (default or "")
        allowed = list(choices)
        if value not in allowed:
            self.fail(name, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def uscc(self, name: str) -> str:
        value = self.text(name).upper()
        problem = uscc_problem(value) if value else None
        if problem:
            self.fail(name, f"invalid unified social credit code {value!r}: {problem}")
        return value

    def positive(self, name: str) -> float:
        value = self.text(name)
        try:
            number = float(value)
        except ValueError:
            if value:
                self.fail(name, f"{value!r} is not a number")
            return 0.0
        if not number > 0 or number == float("inf"):
            self.fail(name, f"must be a positive number, got {value}")
        return number

    def date(self, name: str) -> date | None:
        value = self.raw.get(name, "")
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, f"{value!r} is not a date (YYYY-MM-DD)")
            return None


R = TypeVar("R", bound=_Row)


def check_rows(
    table: Table,
    columns: tuple[frozenset[str], frozenset[str]],
    make_row: Callable[[Table, int, dict[str, str]], R],
    check: Callable[[R], dict[str, Any]],
    key_of: Callable[[dict[str, Any]], tuple[Any, ...]],
    key_field: str,
) -> list[tuple[R, dict[str, Any]]]:
    """Check the header, then every row with ``check``; a row repeating an earlier row's key
    fails on ``key_field``. Returns each row (with its errors) and its record.

    Raises
    ------
    ImportRejected
        A missing required or an unknown column (no row is checked then).
    """
    header_errors = check_columns(table, *columns)
    if header_errors:
        raise ImportRejected(header_errors, file=table.file)
    checked: list[tuple[R, dict[str, Any]]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for number, raw in enumerate(table.rows, start=1):
        row = make_row(table, number, raw)
        record = check(row)
        key = key_of(record)
        if key in seen:
            row.fail(key_field, f"duplicate of row {seen[key]}")
        seen.setdefault(key, number)
        checked.append((row, record))
    return checked


@dataclass
class _Known:
    """Keys that exist in the database or earlier in this import."""

    regions: set[str]
    usccs: set[str]
    units: set[tuple[str, str]]
    gateways: set[str]
    meters: set[str]


def _known(session: Session) -> _Known:
    units = session.execute(
        select(Enterprise.uscc, ProductionUnit.code).join(ProductionUnit.enterprise)
    ).all()
    return _Known(
        regions=set(session.scalars(select(Region.code))),
        usccs=set(session.scalars(select(Enterprise.uscc))),
        units={(u, c) for u, c in units},
        gateways=set(session.scalars(select(Gateway.code))),
        meters=set(session.scalars(select(Meter.code))),
    )


def _check_region(r: _Row, known: _Known) -> dict[str, Any]:
    code = r.text("code", max_len=6)
    level = r.choice("level", ("province", "city", "county"))
    parent = r.raw.get("parent_code", "") or None
    if code and region_level(code) is None:
        r.fail("code", f"{code!r} is not a GB/T 2260 six-digit division code")
    elif code and level and region_level(code) != level:
        r.fail("level", f"code {code} denotes a {region_level(code)}, not a {level}")
    elif code and parent != region_parent(code):
        r.fail("parent_code", f"the parent of {code} is {region_parent(code)}, not {parent}")
    elif parent and parent not in known.regions:
        r.fail("parent_code", f"unknown region {parent}")
    known.regions.add(code)
    return {
        "code": code,
        "name_zh": r.text("name_zh", max_len=64),
        "name_en": r.text("name_en", required=False, max_len=64),
        "level": level,
        "parent_code": parent,
    }


def _check_enterprise(r: _Row, known: _Known) -> dict[str, Any]:
    region = r.text("region_code", max_len=6)
    if region and region not in known.regions:
        r.fail("region_code", f"unknown region {region!r} (GB/T 2260 code of a city or county)")
    elif region and region_level(region) == "province":
        r.fail("region_code", "an enterprise belongs to a city or county, not a province")
    uscc = r.uscc("uscc")
    known.usccs.add(uscc)
    return {
        "uscc": uscc,
        "name": r.text("name"),
        "region_code": region,
        "industry": r.choice("industry", load_industries()),
        "status": r.choice("status", ENTERPRISE_STATUSES, default="operating"),
    }


def _check_owner(r: _Row, known: _Known) -> str:
    uscc = r.text("enterprise_uscc").upper()
    if uscc and uscc not in known.usccs:
        r.fail("enterprise_uscc", f"unknown enterprise {uscc}")
    return uscc


def _check_unit(r: _Row, known: _Known) -> dict[str, Any]:
    uscc = _check_owner(r, known)
    process = r.choice("process", load_processes())
    capacity_unit = r.text("capacity_unit", max_len=16)
    spec = load_processes().get(process)
    if spec and capacity_unit and capacity_unit != spec.capacity_unit:
        r.fail("capacity_unit", f"a {process} capacity is given in {spec.capacity_unit}")
    variant = r.raw.get("level_variant", "") or None
    if variant and spec and variant not in level_variants(spec.level_field):
        allowed = ", ".join(level_variants(spec.level_field)) or "none"
        r.fail("level_variant", f"not a variant of {spec.level_field} (allowed: {allowed})")
    code = r.key("unit_code")
    known.units.add((uscc, code))
    return {
        "enterprise_uscc": uscc,
        "code": code,
        "name": r.text("name"),
        "process": process,
        "capacity": r.positive("capacity"),
        "capacity_unit": capacity_unit,
        "commissioned_on": r.date("commissioned_on"),
        "status": r.choice("status", UNIT_STATUSES, default="operating"),
        "level_variant": variant,
    }


def _check_project(r: _Row, known: _Known) -> dict[str, Any]:
    uscc = _check_owner(r, known)
    unit_codes = [c.strip() for c in r.raw.get("unit_codes", "").split(";") if c.strip()]
    for code in unit_codes:
        if (uscc, code) not in known.units:
            r.fail("unit_codes", f"unknown unit {code!r} of enterprise {uscc}")
    return {
        "enterprise_uscc": uscc,
        "code": r.key("project_code"),
        "name": r.text("name"),
        "stage": r.choice("stage", PROJECT_STAGES),
        "approval_state": r.choice("approval_state", APPROVAL_STATES),
        "unit_codes": unit_codes,
    }


def _check_gateway(r: _Row, known: _Known) -> dict[str, Any]:
    uscc = _check_owner(r, known)
    protocol = r.choice("protocol", PROTOCOLS)
    mn = r.text("mn", required=protocol == "hj212", max_len=32) or None
    code = r.key("gateway_code")
    known.gateways.add(code)
    secret = r.raw.get("secret", "")
    compat = r.raw.get("hj212_compat", "").replace(";", ",")
    if compat:
        try:
            parse_compat(compat)
        except ValueError as exc:
            r.fail("hj212_compat", str(exc))
    return {
        "hj212_compat": compat or None,
        "code": code,
        "enterprise_uscc": uscc,
        "protocol": protocol,
        "mn": mn,
        "secret": secret or None,
    }


def _check_meter(r: _Row, known: _Known) -> dict[str, Any]:
    uscc = _check_owner(r, known)
    unit_code = r.raw.get("unit_code", "")
    if unit_code and (uscc, unit_code) not in known.units:
        r.fail("unit_code", f"unknown unit {unit_code!r} of enterprise {uscc}")
    gateway = r.raw.get("gateway_code", "")
    if gateway and gateway not in known.gateways:
        r.fail("gateway_code", f"unknown gateway {gateway!r}")
    carrier = r.text("carrier", max_len=40)
    problem = meter_carrier_problem(carrier, _energy_carriers()) if carrier else None
    if problem:
        r.fail("carrier", problem)
    uom = r.text("unit_of_measure", max_len=16)
    if uom and uom not in load_units():
        r.fail("unit_of_measure", f"unknown unit {uom!r}")
    calibrated, due = r.date("calibrated_on"), r.date("calibration_due_on")
    if calibrated and due and due < calibrated:
        r.fail("calibration_due_on", "is before calibrated_on")
    code = r.key("meter_code")
    known.meters.add(code)
    return {
        "code": code,
        "enterprise_uscc": uscc,
        "unit_code": unit_code or None,
        "carrier": carrier,
        "level": r.choice("level", METER_LEVELS),
        "parent_meter_code": r.raw.get("parent_meter_code", "") or None,
        "measurement": r.choice("measurement", MEASUREMENTS),
        "unit_of_measure": uom,
        "accuracy_class": r.raw.get("accuracy_class", "") or None,
        "calibrated_on": calibrated,
        "calibration_due_on": due,
        "gateway_code": gateway or None,
        "hj212_code": r.raw.get("hj212_code", "") or None,
    }


CHECKS: dict[str, Callable[[_Row, _Known], dict[str, Any]]] = {
    "regions": _check_region,
    "enterprises": _check_enterprise,
    "units": _check_unit,
    "projects": _check_project,
    "gateways": _check_gateway,
    "meters": _check_meter,
}
