"""Import of the project control files (docs/formats.md, "Project control"; columns:
:data:`kilnwatch.formats.PROJECT_CONTROL_FORMATS`): project details, approvals, the capacity
replacement and coal substitution ledgers, production caps and resident supervisors.

Same rules as every table importer (:mod:`kilnwatch.ingest.tables`): faults as ``FILE, row N,
field 'X': reason``; all or nothing unless ``skip_invalid``. A re-import replaces a project's
approvals and ledger lines, an enterprise's cap of the same period and its supervisor of the
same name. Nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kilnwatch.domain.periods import parse_period
from kilnwatch.domain.projects import APPROVAL_KINDS, APPROVAL_STATUSES, DEPARTMENTS
from kilnwatch.errors import InputError
from kilnwatch.formats import PROJECT_CONTROL_FORMATS
from kilnwatch.ingest.tables import (
    Record,
    TableImportReport,
    TableKind,
    TableRow,
    TextEncoding,
    import_tables,
)
from kilnwatch.reference.projects import replacement_kinds
from kilnwatch.store.models import (
    CapacityReplacement,
    CoalSubstitution,
    Enterprise,
    ProductionCap,
    Project,
    ProjectApproval,
    ResidentSupervisor,
)
from kilnwatch.store.repos.registry import enterprise_ids_by_uscc
from kilnwatch.store.repos.sources import upsert_by_key

SOURCE_KINDS = ("closure", "retrofit", "fuel_switch", "other")
"""Sources of coal substitution: 关停, 节能改造, 煤改气/电, other."""


class _Known:
    def __init__(self, session: Session, zone: Any) -> None:
        self.zone = zone
        self.usccs = enterprise_ids_by_uscc(session)
        self.projects = {
            (uscc, code): pid
            for pid, uscc, code in session.execute(
                select(Project.id, Enterprise.uscc, Project.code).join(Enterprise)
            )
        }

    def project(self, r: TableRow) -> int:
        uscc, code = r.enterprise(self.usccs), r.text("project_code")
        pid = self.projects.get((uscc, code), 0)
        if uscc in self.usccs and code and not pid:
            r.fail("project_code", f"unknown project {code} of enterprise {uscc}")
        return pid


def _details(r: TableRow, k: _Known) -> Record:
    kind = r.optional("replacement_kind")
    if kind and kind not in replacement_kinds():
        r.fail("replacement_kind", f"{kind!r} is not one of {', '.join(replacement_kinds())}")
    capacity, unit = r.optional_non_negative("capacity"), r.optional("capacity_unit")
    if capacity is not None and not unit:
        r.fail("capacity_unit", "a capacity needs its unit")
    if kind and capacity is None:
        r.fail("capacity", "a replacement needs the project's new capacity")
    return {"project_id": k.project(r), "capacity": capacity, "capacity_unit": unit,
            "replacement_kind": kind,
            "replacement_ratio": r.optional_non_negative("replacement_ratio"),
            "coal_t_per_year": r.optional_non_negative("coal_t_per_year")}  # fmt: skip


def _approval(r: TableRow, k: _Known) -> Record:
    return {"project_id": k.project(r), "kind": r.choice("kind", APPROVAL_KINDS),
            "status": r.choice("status", APPROVAL_STATUSES),
            "authority": r.text("authority", required=False),
            "document_no": r.text("document_no", required=False, max_len=120),
            "issued_on": r.date("issued_on")}  # fmt: skip


def _replacement(r: TableRow, k: _Known) -> Record:
    return {"project_id": k.project(r), "source_name": r.text("source_name"),
            "capacity": r.positive("capacity"), "capacity_unit": r.text("capacity_unit"),
            "retired_on": r.date("retired_on"),
            "document_no": r.text("document_no", required=False, max_len=120)}  # fmt: skip


def _substitution(r: TableRow, k: _Known) -> Record:
    return {"project_id": k.project(r), "source_kind": r.choice("source_kind", SOURCE_KINDS),
            "source_name": r.text("source_name"), "coal_t_per_year": r.positive("coal_t_per_year"),
            "achieved_on": r.date("achieved_on"),
            "document_no": r.text("document_no", required=False, max_len=120)}  # fmt: skip


def _cap(r: TableRow, k: _Known) -> Record:
    label = r.text("period")
    try:
        label = parse_period(label, k.zone).label if label else label
    except InputError as exc:
        r.fail("period", exc.reason)
    caps = {key: r.optional_non_negative(key) for key in ("output_t", "energy_tce", "coal_t")}
    if all(v is None for v in caps.values()):
        r.fail("output_t", "a cap needs output_t, energy_tce or coal_t")
    return {"enterprise_id": k.usccs.get(r.enterprise(k.usccs), 0), "period": label,
            "product": r.key("product"), **caps,
            "document_no": r.text("document_no", required=False, max_len=120)}  # fmt: skip


def _supervisor(r: TableRow, k: _Known) -> Record:
    region = r.text("assigned_by_region")
    if region and (len(region) != 6 or not region.isdigit()):
        r.fail("assigned_by_region", f"{region!r} is not a six-digit division code")
    return {"enterprise_id": k.usccs.get(r.enterprise(k.usccs), 0), "name": r.text("name"),
            "department": r.choice("department", DEPARTMENTS), "assigned_by_region": region,
            "assigned_on": r.date("assigned_on", required=True),
            "username": r.optional("username")}  # fmt: skip


CHECKS: dict[str, tuple[Callable[[TableRow, _Known], Record], tuple[str, ...], str]] = {
    "project_details": (_details, ("project_id",), "project_code"),
    "project_approvals": (_approval, ("project_id", "kind"), "kind"),
    "capacity_replacements": (_replacement, ("project_id", "source_name"), "source_name"),
    "coal_substitutions": (_substitution, ("project_id", "source_name"), "source_name"),
    "production_caps": (_cap, ("enterprise_id", "period"), "period"),
    "resident_supervisors": (_supervisor, ("enterprise_id", "name"), "name"),
}
"""Per file: the row check, the natural key of its records and the field a repeat is shown on."""

LEDGERS: Mapping[str, Any] = {
    "project_approvals": ProjectApproval,
    "capacity_replacements": CapacityReplacement,
    "coal_substitutions": CoalSubstitution,
}


def _store(session: Session, kind: str, records: list[Record]) -> tuple[int, int]:
    if kind == "project_details":
        for rec in records:
            project = session.get(Project, rec.pop("project_id"))
            for key, value in rec.items():
                setattr(project, key, value)
        return 0, len(records)
    if kind in LEDGERS:
        model = LEDGERS[kind]
        owners = {rec["project_id"] for rec in records}
        old = (
            session.scalar(
                select(func.count()).select_from(model).where(model.project_id.in_(owners))
            )
            or 0
        )
        session.execute(delete(model).where(model.project_id.in_(owners)))
        session.add_all(model(**rec) for rec in records)
        return max(len(records) - old, 0), min(old, len(records))
    if kind == "production_caps":
        return upsert_by_key(session, ProductionCap, ("enterprise_id", "period"), records)
    return upsert_by_key(session, ResidentSupervisor, ("enterprise_id", "name"), records)


def import_project_control(
    session: Session,
    path: Path,
    *,
    zone: Any,
    kind: str | None = None,
    skip_invalid: bool = False,
    encoding: TextEncoding | None = None,
) -> TableImportReport:
    """Import a project control file or a folder of them (see the module docstring)."""
    known = _Known(session, zone)

    def table_kind(name: str) -> TableKind:
        check, key, key_field = CHECKS[name]
        return TableKind(PROJECT_CONTROL_FORMATS[name], lambda r: check(r, known), key, key_field)

    def store(name: str, records: list[Record]) -> tuple[int, int]:
        result = _store(session, name, records)
        session.flush()
        return result

    kinds = {name: table_kind(name) for name in PROJECT_CONTROL_FORMATS}
    return import_tables(path, kinds, "project control", store, TableImportReport(), kind=kind,
                         skip_invalid=skip_invalid, encoding=encoding)  # fmt: skip


__all__ = ["CHECKS", "SOURCE_KINDS", "import_project_control"]
