"""Refinery energy factors (能量因数): recorded with their evidence, never rewritten.

A refinery's level indicator in GB 30251-2024 is energy per tonne of crude and per energy
factor; the factor depends on the refinery's process units and is declared by the refinery
(checked by the experts). Each record is valid from a date: a new record applies from its own
date on and earlier periods keep the factor they were judged with.

References
----------
.. [1] GB 30251-2024, 炼化行业单位产品能源消耗限额 (炼油单位能量因数能耗, Table 1).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain import field_def
from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.identity import Principal
from kilnwatch.reference.registry import load_processes
from kilnwatch.store.models import EnergyFactor, Enterprise, ProductionUnit
from kilnwatch.store.repos.scope import (
    owned_by_visible_enterprise,
    visible_row,
    visible_unit_rows,
)


def record_energy_factor(
    session: Session,
    principal: Principal,
    unit_id: int,
    energy_factor: float,
    valid_from: date,
    evidence: str,
) -> EnergyFactor:
    """Record a refinery's energy factor from ``valid_from`` on, with its evidence.

    Refused (``InputError``) for a unit whose level field is not per energy factor, for a
    factor that is not positive and finite, and without evidence.
    """
    unit = visible_row(session, ProductionUnit, unit_id, principal, "production unit")
    field = load_processes()[unit.process].level_field
    if "energy_factor" not in field_def(field).unit:
        raise InputError(
            f"unit {unit.code} ({unit.process}) is not judged per energy factor", field="unit_id"
        )
    if not (math.isfinite(energy_factor) and energy_factor > 0):
        raise InputError(
            f"energy factor must be positive, got {energy_factor}", field="energy_factor"
        )
    if not evidence.strip():
        raise InputError("an energy factor needs its evidence", field="evidence")
    row = EnergyFactor(
        unit_id=unit.id,
        enterprise_id=unit.enterprise_id,
        energy_factor=energy_factor,
        valid_from=valid_from,
        evidence=evidence.strip(),
        recorded_by=principal.subject,
    )
    session.add(row)
    session.flush()
    return row


def energy_factor_records(
    session: Session, principal: Principal, unit_id: int | None = None
) -> list[EnergyFactor]:
    """Every recorded energy factor the principal may see (of one unit when given), newest
    first."""
    return visible_unit_rows(session, EnergyFactor, principal, unit_id, EnergyFactor.valid_from)


_T = TypeVar("_T")


def _parse(parse: Callable[[str], _T], text: str) -> _T | None:
    try:
        return parse(text)
    except ValueError:
        return None


IMPORT_COLUMNS = ("enterprise_uscc", "unit_code", "energy_factor", "valid_from", "evidence")


def import_energy_factors(session: Session, principal: Principal, path: Path) -> int:
    """Record the energy factors of a CSV file (``IMPORT_COLUMNS``; UTF-8) all or nothing:
    every bad row is reported with the file, row and field, and nothing is stored then. A row
    already recorded (same unit, factor and date) is not recorded twice. Returns the rows
    recorded."""
    errors: list[InputError] = []
    todo: list[tuple[int, float, date, str]] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"missing columns {missing}", file=str(path), field=missing[0])
        for n, row in enumerate(reader, start=2):
            unit = session.scalar(
                select(ProductionUnit).join(Enterprise).where(
                    Enterprise.uscc == row["enterprise_uscc"].strip(),
                    ProductionUnit.code == row["unit_code"].strip(),
                    owned_by_visible_enterprise(ProductionUnit.enterprise_id, principal))
            )  # fmt: skip
            factor = _parse(float, row["energy_factor"])
            day = _parse(date.fromisoformat, row["valid_from"].strip())
            for bad, field, reason in (
                (unit is None, "unit_code", "no such unit in your jurisdiction"),
                (factor is None, "energy_factor", "not a number"),
                (day is None, "valid_from", "not a date YYYY-MM-DD"),
            ):
                if bad:
                    errors.append(InputError(reason, file=str(path), row=n, field=field))
            if unit is not None and factor is not None and day is not None:
                todo.append((unit.id, factor, day, row["evidence"]))
    if errors:
        raise ImportRejected(errors, file=str(path))
    done = 0
    with session.begin_nested():
        for unit_id, factor, day, evidence in todo:
            same = session.scalar(select(EnergyFactor.id).where(
                EnergyFactor.unit_id == unit_id, EnergyFactor.energy_factor == factor,
                EnergyFactor.valid_from == day))  # fmt: skip
            if same is None:
                record_energy_factor(session, principal, unit_id, factor, day, evidence)
                done += 1
    return done


__all__ = [
    "IMPORT_COLUMNS",
    "import_energy_factors",
    "energy_factor_records",
    "record_energy_factor",
]
