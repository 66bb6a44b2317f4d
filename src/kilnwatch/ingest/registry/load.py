"""Registry import: regions, enterprises, units, projects, gateways and meters from CSV/XLSX.

Formats are documented in ``docs/formats.md``. Every row is validated before anything is
written; a fault is reported as ``FILE, row N, field 'X': reason``. The import is
all-or-nothing unless ``skip_invalid`` is set, in which case valid rows are written and the
rejected ones returned. Rows are upserted by their natural key, so re-importing a file is
harmless. Nothing is committed here: the caller owns the transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.identity import hash_secret
from kilnwatch.ingest.registry.checks import known_keys, table_kinds
from kilnwatch.ingest.tables import Record, TableImportReport, TextEncoding, import_tables
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Project, Region
from kilnwatch.store.repos.registry import enterprise_ids_by_uscc


def import_registry(
    session: Session,
    path: Path,
    *,
    skip_invalid: bool = False,
    kind: str | None = None,
    encoding: TextEncoding | None = None,
) -> TableImportReport:
    """Import a registry file or folder (files in dependency order; later files may refer to
    rows of earlier ones). Raises :class:`ImportRejected` (writing nothing) when a row is
    invalid, unless ``skip_invalid``; then valid rows are written and the report lists the
    rejected ones."""
    kinds = table_kinds(known_keys(session))

    def store(kind: str, records: list[Record]) -> tuple[int, int]:
        counts = _APPLY[kind](session, records)
        session.flush()
        return counts

    return import_tables(path, kinds, "registry", store, TableImportReport(), kind=kind,
                         skip_invalid=skip_invalid, encoding=encoding)  # fmt: skip


def _upsert(session: Session, existing: Any, model: type[Any], values: dict[str, Any]) -> bool:
    """Update ``existing`` or add a new ``model``; True when created."""
    if existing is None:
        session.add(model(**values))
        return True
    for name, value in values.items():
        setattr(existing, name, value)
    return False


def _count(results: list[bool]) -> tuple[int, int]:
    return sum(results), len(results) - sum(results)


def _apply_regions(session: Session, rows: list[Record]) -> tuple[int, int]:
    return _count([_upsert(session, session.get(Region, r["code"]), Region, r) for r in rows])


def _apply_enterprises(session: Session, rows: list[Record]) -> tuple[int, int]:
    existing = {e.uscc: e for e in session.scalars(select(Enterprise))}
    return _count([_upsert(session, existing.get(r["uscc"]), Enterprise, r) for r in rows])


def _unit_index(session: Session) -> dict[tuple[int, str], ProductionUnit]:
    return {(u.enterprise_id, u.code): u for u in session.scalars(select(ProductionUnit))}


def _apply_units(session: Session, rows: list[Record]) -> tuple[int, int]:
    ids, units = enterprise_ids_by_uscc(session), _unit_index(session)
    results = []
    for r in rows:
        values = {k: v for k, v in r.items() if k != "enterprise_uscc"}
        values["enterprise_id"] = ids[r["enterprise_uscc"]]
        existing = units.get((values["enterprise_id"], r["code"]))
        results.append(_upsert(session, existing, ProductionUnit, values))
    return _count(results)


def _apply_projects(session: Session, rows: list[Record]) -> tuple[int, int]:
    ids, units = enterprise_ids_by_uscc(session), _unit_index(session)
    projects = {(p.enterprise_id, p.code): p for p in session.scalars(select(Project))}
    results = []
    for r in rows:
        enterprise_id = ids[r["enterprise_uscc"]]
        project = projects.get((enterprise_id, r["code"]))
        created = project is None
        if project is None:
            project = Project(enterprise_id=enterprise_id, code=r["code"])
            session.add(project)
        project.name, project.stage = r["name"], r["stage"]
        project.approval_state = r["approval_state"]
        project.units = [units[(enterprise_id, c)] for c in r["unit_codes"]]
        results.append(created)
    return _count(results)


def _apply_gateways(session: Session, rows: list[Record]) -> tuple[int, int]:
    ids = enterprise_ids_by_uscc(session)
    existing = {g.code: g for g in session.scalars(select(Gateway))}
    results = []
    for r in rows:
        values = {
            "code": r["code"],
            "enterprise_id": ids[r["enterprise_uscc"]],
            "protocol": r["protocol"],
            "mn": r["mn"],
            "hj212_compat": r["hj212_compat"],
        }
        if r["secret"]:
            values["secret_hash"] = hash_secret(r["secret"])
        results.append(_upsert(session, existing.get(r["code"]), Gateway, values))
    return _count(results)


def _apply_meters(session: Session, rows: list[Record]) -> tuple[int, int]:
    ids, units = enterprise_ids_by_uscc(session), _unit_index(session)
    gateways = {g.code: g.id for g in session.scalars(select(Gateway))}
    existing = {m.code: m for m in session.scalars(select(Meter))}
    results = []
    for r in rows:
        enterprise_id = ids[r["enterprise_uscc"]]
        unit = units.get((enterprise_id, r["unit_code"])) if r["unit_code"] else None
        values = {
            k: v
            for k, v in r.items()
            if k not in ("enterprise_uscc", "unit_code", "gateway_code", "parent_meter_code")
        }
        values.update(
            enterprise_id=enterprise_id,
            unit_id=unit.id if unit else None,
            gateway_id=gateways.get(r["gateway_code"]) if r["gateway_code"] else None,
        )
        results.append(_upsert(session, existing.get(r["code"]), Meter, values))
    session.flush()
    meter_ids = dict(session.execute(select(Meter.code, Meter.id)).all())
    for r in rows:
        if r["parent_meter_code"]:
            meter = session.get(Meter, meter_ids[r["code"]])
            assert meter is not None
            meter.parent_meter_id = meter_ids[r["parent_meter_code"]]
    return _count(results)


_APPLY = {
    "regions": _apply_regions,
    "enterprises": _apply_enterprises,
    "units": _apply_units,
    "projects": _apply_projects,
    "gateways": _apply_gateways,
    "meters": _apply_meters,
}
