"""Validate registry tables, then upsert them; see :mod:`kilnwatch.ingest.registry`."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.identity import hash_secret
from kilnwatch.ingest.registry import (
    CHECKS,
    COLUMNS,
    KINDS,
    ImportReport,
    Rejected,
    _known,
    _Row,
    check_rows,
)
from kilnwatch.ingest.tables import Table, read_table
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Project, Region

_NATURAL_KEY = {
    "regions": ("code",),
    "enterprises": ("uscc",),
    "units": ("enterprise_uscc", "code"),
    "projects": ("enterprise_uscc", "code"),
    "gateways": ("code",),
    "meters": ("code",),
}


@dataclass
class _Checked:
    kind: str
    table: Table
    good: list[dict[str, Any]]
    rejected: list[Rejected]


def kind_of(path: Path) -> str:
    """The registry kind a file holds, from its name (``enterprises.csv``, ``meters.xlsx``…)."""
    stem = path.stem.lower()
    for kind in KINDS:
        if stem == kind or stem.startswith(kind) or stem.endswith(kind):
            return kind
    raise InputError(
        f"cannot tell the registry kind from the file name; name it one of {', '.join(KINDS)}",
        file=path.name,
    )


def registry_files(path: Path) -> list[tuple[str, Path]]:
    """The files to import from ``path`` (a file or a folder), in dependency order."""
    if path.is_dir():
        found = []
        for kind in KINDS:
            for suffix in (".csv", ".xlsx"):
                candidate = path / f"{kind}{suffix}"
                if candidate.exists():
                    found.append((kind, candidate))
        if not found:
            raise InputError(
                "no registry files (regions/enterprises/units/…) found", file=str(path)
            )
        return found
    if not path.exists():
        raise InputError("file not found", file=str(path))
    return [(kind_of(path), path)]


def _check_table(kind: str, table: Table, known: Any) -> _Checked:
    good: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    checked = check_rows(
        table,
        COLUMNS[kind],
        _Row,
        lambda row: CHECKS[kind](row, known),
        lambda record: tuple(record[k] for k in _NATURAL_KEY[kind]),
        _NATURAL_KEY[kind][-1],
    )
    for row, record in checked:
        if kind == "meters":
            record["_row"] = row
        if row.errors:
            rejected += [Rejected(e, row.raw) for e in row.errors]
        else:
            good.append(record)
    if kind == "meters":
        good = _check_meter_parents(good, known, rejected)
    return _Checked(kind, table, good, rejected)


def _check_meter_parents(
    good: list[dict[str, Any]], known: Any, rejected: list[Rejected]
) -> list[dict[str, Any]]:
    kept = []
    for record in good:
        row: _Row = record.pop("_row")
        parent = record["parent_meter_code"]
        if parent and (parent not in known.meters or parent == record["code"]):
            row.fail("parent_meter_code", f"unknown parent meter {parent!r}")
            rejected += [Rejected(e, row.raw) for e in row.errors]
        else:
            kept.append(record)
    return kept


def check_registry(session: Session, files: Sequence[tuple[str, Path]]) -> list[_Checked]:
    """Read and validate every file; later files may refer to rows of earlier ones."""
    known = _known(session)
    return [_check_table(kind, read_table(path), known) for kind, path in files]


def import_registry(
    session: Session, path: Path, *, skip_invalid: bool = False, kind: str | None = None
) -> ImportReport:
    """Import a registry file or folder. Raises :class:`ImportRejected` (writing nothing) when a
    row is invalid, unless ``skip_invalid``; then valid rows are written and the report lists
    the rejected ones."""
    files = [(kind, path)] if kind else registry_files(path)
    checked = check_registry(session, files)
    rejected = [r for c in checked for r in c.rejected]
    if rejected and not skip_invalid:
        raise ImportRejected([r.error for r in rejected], file=str(path))
    report = ImportReport(rejected=rejected)
    for c in checked:
        created, updated = _APPLY[c.kind](session, c.good)
        report.created[c.kind] = created
        report.updated[c.kind] = updated
        session.flush()
    return report


def write_rejects(rejected: Sequence[Rejected], out: Path) -> None:
    """Write rejected rows with their file, row, field and reason (for ``--skip-invalid``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    columns: list[str] = []
    for r in rejected:
        columns += [c for c in r.row if c not in columns]
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "row", "field", "reason", *columns])
        for r in rejected:
            loc = r.error.location
            writer.writerow(
                [loc.file, loc.row, loc.field, r.error.reason, *(r.row.get(c, "") for c in columns)]
            )


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


def _enterprise_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Enterprise.uscc, Enterprise.id)).all())


def _apply_regions(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int]:
    return _count([_upsert(session, session.get(Region, r["code"]), Region, r) for r in rows])


def _apply_enterprises(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int]:
    existing = {e.uscc: e for e in session.scalars(select(Enterprise))}
    return _count([_upsert(session, existing.get(r["uscc"]), Enterprise, r) for r in rows])


def _unit_index(session: Session) -> dict[tuple[int, str], ProductionUnit]:
    return {(u.enterprise_id, u.code): u for u in session.scalars(select(ProductionUnit))}


def _apply_units(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int]:
    ids, units = _enterprise_ids(session), _unit_index(session)
    results = []
    for r in rows:
        values = {k: v for k, v in r.items() if k != "enterprise_uscc"}
        values["enterprise_id"] = ids[r["enterprise_uscc"]]
        existing = units.get((values["enterprise_id"], r["code"]))
        results.append(_upsert(session, existing, ProductionUnit, values))
    return _count(results)


def _apply_projects(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int]:
    ids, units = _enterprise_ids(session), _unit_index(session)
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


def _apply_gateways(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int]:
    ids = _enterprise_ids(session)
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


def _apply_meters(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int]:
    ids, units = _enterprise_ids(session), _unit_index(session)
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
