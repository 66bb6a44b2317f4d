"""Registry export in the import format of ``docs/formats.md`` (secrets are never exported)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.obsolete import format_equipment
from kilnwatch.formats import REGISTRY_FORMATS
from kilnwatch.identity import Principal
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Project, Region
from kilnwatch.store.repos.scope import enterprise_scope, owned_by_visible_enterprise, region_scope

_M = TypeVar("_M", ProductionUnit, Project, Gateway, Meter)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def registry_rows(session: Session, principal: Principal, kind: str) -> Iterable[Sequence[str]]:
    """Rows of one registry kind visible to ``principal``, in the columns of its format."""
    uscc = dict(session.execute(select(Enterprise.id, Enterprise.uscc)).all())
    if kind == "regions":
        for r in session.scalars(
            select(Region).where(region_scope(principal)).order_by(Region.code)
        ):
            yield [r.code, r.name_zh, r.name_en, r.level, _text(r.parent_code)]
    elif kind == "enterprises":
        for e in session.scalars(select(Enterprise).where(enterprise_scope(principal))):
            yield [e.uscc, e.name, e.region_code, e.industry, e.status]
    elif kind == "units":
        for u in _owned(session, principal, ProductionUnit):
            yield [
                uscc[u.enterprise_id],
                u.code,
                u.name,
                u.process,
                _text(u.capacity),
                u.capacity_unit,
                _text(u.commissioned_on),
                u.status,
                _text(u.level_variant),
                format_equipment(u.equipment),
            ]
    elif kind == "projects":
        for p in _owned(session, principal, Project):
            codes = ";".join(u.code for u in p.units)
            yield [uscc[p.enterprise_id], p.code, p.name, p.stage, p.approval_state, codes]
    elif kind == "gateways":
        for g in _owned(session, principal, Gateway):
            yield [g.code, uscc[g.enterprise_id], g.protocol, _text(g.mn), _text(g.hj212_compat)]
    else:
        yield from _meter_rows(session, principal, uscc)


def _owned(session: Session, principal: Principal, model: type[_M]) -> Sequence[_M]:
    stmt = select(model).where(owned_by_visible_enterprise(model.enterprise_id, principal))
    return session.scalars(stmt.order_by(model.id)).all()


def _meter_rows(
    session: Session, principal: Principal, uscc: dict[int, str]
) -> Iterable[Sequence[str]]:
    units = dict(session.execute(select(ProductionUnit.id, ProductionUnit.code)).all())
    gateways = dict(session.execute(select(Gateway.id, Gateway.code)).all())
    codes = dict(session.execute(select(Meter.id, Meter.code)).all())
    stmt = select(Meter).where(owned_by_visible_enterprise(Meter.enterprise_id, principal))
    for m in session.scalars(stmt.order_by(Meter.id)):
        yield [
            m.code,
            uscc[m.enterprise_id],
            units.get(m.unit_id or 0, ""),
            m.carrier,
            m.level,
            codes.get(m.parent_meter_id or 0, ""),
            m.measurement,
            m.unit_of_measure,
            _text(m.accuracy_class),
            _text(m.calibrated_on),
            _text(m.calibration_due_on),
            gateways.get(m.gateway_id or 0, ""),
            _text(m.hj212_code),
            _text(m.water_source),
        ]


def export_registry(
    session: Session, principal: Principal, out_dir: Path, fmt: str = "csv"
) -> dict[str, int]:
    """Write one file per kind into ``out_dir`` (CSV) or one workbook per kind (XLSX)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for kind, file_format in REGISTRY_FORMATS.items():
        rows = list(registry_rows(session, principal, kind))
        counts[kind] = len(rows)
        if fmt == "xlsx":
            workbook = Workbook()
            sheet = workbook.active
            assert sheet is not None
            sheet.title = kind
            sheet.append(list(file_format.columns))
            for row in rows:
                sheet.append(list(row))
            workbook.save(out_dir / f"{kind}.xlsx")
        else:
            with (out_dir / f"{kind}.csv").open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(file_format.columns)
                writer.writerows(rows)
    return counts
