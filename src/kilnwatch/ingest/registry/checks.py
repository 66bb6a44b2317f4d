"""The row checks of the registry files (docs/formats.md, "Registry"): one function per kind.

Each check reads a row's fields with :class:`~kilnwatch.ingest.tables.TableRow` and returns the
record to store; references to other registry rows (an enterprise's region, a meter's unit,
gateway or parent) are checked against :class:`Known`, the keys in the database and in the
rows checked before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.energy import carrier_keys
from kilnwatch.domain.identifiers import region_level, region_parent
from kilnwatch.domain.obsolete import EquipmentValue, check_equipment, parse_equipment
from kilnwatch.domain.projects import LEGACY_STAGES, STAGES, stored_stage
from kilnwatch.errors import InputError
from kilnwatch.formats import REGISTRY_FORMATS
from kilnwatch.ingest.hj212.model import parse_compat
from kilnwatch.ingest.tables import CheckedRows, Record, TableKind, TableRow
from kilnwatch.reference.emissions import load_water_sources
from kilnwatch.reference.energy import load_units
from kilnwatch.reference.levels import load_level_tables
from kilnwatch.reference.registry import load_industries, load_processes, meter_carrier_problem
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Region

ENTERPRISE_STATUSES = ("operating", "production_controlled", "shut")
UNIT_STATUSES = ("operating", "production_controlled", "shut", "eliminated")
PROJECT_STAGES = (*STAGES, *LEGACY_STAGES)
"""Today's stages and the first format's names (stored as today's)."""
APPROVAL_STATES = ("pending", "approved", "rejected", "not_required")
PROTOCOLS = ("http", "mqtt", "hj212")
METER_LEVELS = ("entry", "sub_unit", "equipment")
MEASUREMENTS = ("counter", "interval", "instant")


@cache
def level_variants(field: str) -> tuple[str, ...]:
    """The variants any packaged level table distinguishes for ``field``."""
    rows = (r for t in load_level_tables() for r in t.rows if r.field == field and r.variant)
    return tuple(dict.fromkeys(r.variant for r in rows))


@cache
def _energy_carriers() -> frozenset[str]:
    return frozenset(carrier_keys())


@dataclass
class Known:
    """Keys that exist in the database or earlier in this import."""

    regions: set[str]
    usccs: set[str]
    units: set[tuple[str, str]]
    gateways: set[str]
    meters: set[str]
    gateway_mns: dict[str, str]
    """HJ 212 MN (设备唯一标识, HJ 212-2017 section 6) -> the one gateway holding it."""


def known_keys(session: Session) -> Known:
    """The registry's keys in the database."""
    units = session.execute(
        select(Enterprise.uscc, ProductionUnit.code).join(ProductionUnit.enterprise)
    ).all()
    return Known(
        regions=set(session.scalars(select(Region.code))),
        usccs=set(session.scalars(select(Enterprise.uscc))),
        units={(u, c) for u, c in units},
        gateways=set(session.scalars(select(Gateway.code))),
        meters=set(session.scalars(select(Meter.code))),
        gateway_mns={
            mn: code
            for mn, code in session.execute(select(Gateway.mn, Gateway.code))
            if mn is not None
        },
    )


def _check_region(r: TableRow, known: Known) -> Record:
    code = r.text("code", max_len=6)
    level = r.choice("level", ("province", "city", "county"))
    parent = r.optional("parent_code")
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


def _check_enterprise(r: TableRow, known: Known) -> Record:
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


def _check_unit(r: TableRow, known: Known) -> Record:
    uscc = r.enterprise(known.usccs)
    process = r.choice("process", load_processes())
    capacity_unit = r.text("capacity_unit", max_len=16)
    spec = load_processes().get(process)
    if spec and capacity_unit and capacity_unit != spec.capacity_unit:
        r.fail("capacity_unit", f"a {process} capacity is given in {spec.capacity_unit}")
    variant = r.optional("level_variant")
    if variant and spec and variant not in level_variants(spec.level_field):
        allowed = ", ".join(level_variants(spec.level_field)) or "none"
        r.fail("level_variant", f"not a variant of {spec.level_field} (allowed: {allowed})")
    code = r.key("unit_code")
    known.units.add((uscc, code))
    record: Record = {
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
    if "equipment" in r.raw:  # a file without the column leaves the stored attributes alone
        record["equipment"] = _equipment(r, process)
    return record


def _equipment(r: TableRow, process: str) -> dict[str, EquipmentValue] | None:
    """The ``equipment`` cell (``name=value;…``) checked for the unit's process."""
    text = r.optional("equipment")
    if not text or not process:
        return None
    try:
        return check_equipment(process, parse_equipment(text)) or None
    except InputError as exc:
        r.fail(exc.location.field or "equipment", exc.reason)
        return None


def _check_project(r: TableRow, known: Known) -> Record:
    uscc = r.enterprise(known.usccs)
    unit_codes = [c.strip() for c in r.raw.get("unit_codes", "").split(";") if c.strip()]
    for code in unit_codes:
        if (uscc, code) not in known.units:
            r.fail("unit_codes", f"unknown unit {code!r} of enterprise {uscc}")
    return {
        "enterprise_uscc": uscc,
        "code": r.key("project_code"),
        "name": r.text("name"),
        "stage": stored_stage(r.choice("stage", PROJECT_STAGES)),
        "approval_state": r.choice("approval_state", APPROVAL_STATES),
        "unit_codes": unit_codes,
    }


def _check_gateway(r: TableRow, known: Known) -> Record:
    uscc = r.enterprise(known.usccs)
    protocol = r.choice("protocol", PROTOCOLS)
    mn = r.text("mn", required=protocol == "hj212", max_len=32) or None
    code = r.key("gateway_code")
    known.gateways.add(code)
    holder = known.gateway_mns.setdefault(mn, code) if mn else None
    if holder and holder != code:
        r.fail("mn", f"MN {mn} already belongs to gateway {holder!r} (free it there first)")
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


def _check_meter(r: TableRow, known: Known) -> Record:
    uscc = r.enterprise(known.usccs)
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
    source = r.optional("water_source")
    if source and carrier != "water":
        r.fail("water_source", f"only a water meter has a withdrawal source, not {carrier!r}")
    elif source and source not in load_water_sources():
        r.fail("water_source", f"unknown water source {source!r} (see water_sources.csv)")
    code = r.key("meter_code")
    known.meters.add(code)
    return {
        "code": code,
        "enterprise_uscc": uscc,
        "unit_code": unit_code or None,
        "carrier": carrier,
        "level": r.choice("level", METER_LEVELS),
        "parent_meter_code": r.optional("parent_meter_code"),
        "measurement": r.choice("measurement", MEASUREMENTS),
        "unit_of_measure": uom,
        "accuracy_class": r.optional("accuracy_class"),
        "calibrated_on": calibrated,
        "calibration_due_on": due,
        "gateway_code": gateway or None,
        "hj212_code": r.optional("hj212_code"),
        "water_source": source,
    }


CHECKS: dict[str, Callable[[TableRow, Known], Record]] = {
    "regions": _check_region,
    "enterprises": _check_enterprise,
    "units": _check_unit,
    "projects": _check_project,
    "gateways": _check_gateway,
    "meters": _check_meter,
}


def check_meter_parents(checked: CheckedRows, known: Known) -> None:
    """A meter's parent is another known meter (checked once every meter of the file is
    known, so that a parent may come after its sub-meters)."""
    for row, record in checked:
        parent = record["parent_meter_code"]
        if not row.errors and parent and (parent not in known.meters or parent == record["code"]):
            row.fail("parent_meter_code", f"unknown parent meter {parent!r}")


NATURAL_KEYS = {
    "regions": ("code",),
    "enterprises": ("uscc",),
    "units": ("enterprise_uscc", "code"),
    "projects": ("enterprise_uscc", "code"),
    "gateways": ("code",),
    "meters": ("code",),
}
"""The key a registry row is upserted by (a duplicate is reported on its last field)."""


def _table_kind(kind: str, known: Known) -> TableKind:
    def check(row: TableRow) -> Record:
        return CHECKS[kind](row, known)

    def parents(checked: CheckedRows) -> None:
        check_meter_parents(checked, known)

    key = NATURAL_KEYS[kind]
    across_rows = parents if kind == "meters" else None
    return TableKind(REGISTRY_FORMATS[kind], check, key, key[-1], across_rows)


def table_kinds(known: Known) -> dict[str, TableKind]:
    """How each registry file is checked, in dependency order, against ``known`` (which the
    checks extend with every row they pass)."""
    return {kind: _table_kind(kind, known) for kind in REGISTRY_FORMATS}
