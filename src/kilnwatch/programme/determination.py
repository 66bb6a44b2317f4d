"""核查认定: the efficiency level of each unit, computed from metered data, declared by the
enterprise with its evidence, and decided by the experts where the two differ.

Every determination names the level table (and its edition) that gave the class. Computing
again against a new table (a provincial table, a new NDRC edition) adds new determinations;
the old ones stay as they were judged.

References
----------
.. [1] 发改产业〔2021〕1609号 and 〔2023〕723号 (标杆 / 基准 levels) and the GB limit standards,
   as :mod:`kilnwatch.domain.levels` cites them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.accounting.units import unit_accounts
from kilnwatch.domain.levels import NDRC_CLASSES
from kilnwatch.domain.periods import Period
from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.reference.levels import LevelTable, load_level_tables
from kilnwatch.store.models import LevelDetermination
from kilnwatch.store.repos.scope import owned_by_visible_enterprise, visible_row

STATUSES = ("computed", "declared", "differs", "decided")


def determine(
    session: Session,
    principal: Principal,
    period: Period,
    tables: Sequence[LevelTable] | None = None,
) -> list[LevelDetermination]:
    """Compute and store a determination for every unit the principal may see.

    ``tables`` default to the packaged NDRC and GB tables; pass provincial tables as well to
    judge against them (the newest table with values decides, provinces win ties).
    """
    used = tuple(load_level_tables()) if tables is None else tuple(tables)
    editions = {t.table_id: t.edition_year for t in used}
    rows = []
    for acc in unit_accounts(session, principal, period, used):
        row = LevelDetermination(
            unit_id=acc.unit_id,
            enterprise_id=acc.enterprise_id,
            period=period.label,
            level_field=acc.level_field,
            computed_intensity=acc.intensity,
            intensity_unit=acc.intensity_unit,
            computed_class=acc.class_,
            computed_table=acc.class_table,
            computed_table_edition=editions.get(acc.class_table or ""),
            computed_notes="; ".join(acc.notes),
            unclassified_code=acc.unclassified_code,
            energy_factor=acc.energy_factor,
            status="computed",
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def latest(
    session: Session, principal: Principal, period: str | None = None
) -> list[LevelDetermination]:
    """The newest determination of each unit (for ``period`` when given), visible ones only."""
    stmt = (
        select(LevelDetermination)
        .where(owned_by_visible_enterprise(LevelDetermination.enterprise_id, principal))
        .order_by(LevelDetermination.unit_id, LevelDetermination.id.desc())
    )
    if period is not None:
        stmt = stmt.where(LevelDetermination.period == period)
    seen: dict[int, LevelDetermination] = {}
    for row in session.scalars(stmt):
        seen.setdefault(row.unit_id, row)
    return list(seen.values())


def get(session: Session, principal: Principal, determination_id: int) -> LevelDetermination:
    """One determination the principal may see, else :class:`NotFoundError`."""
    return visible_row(session, LevelDetermination, determination_id, principal, "determination")


def _check_class(value: str, field: str) -> None:
    if value not in NDRC_CLASSES:
        raise InputError(f"class must be one of {', '.join(NDRC_CLASSES)}", field=field)


def declare(
    session: Session,
    principal: Principal,
    determination_id: int,
    declared_class: str,
    evidence: str,
    declared_intensity: float | None = None,
) -> LevelDetermination:
    """The enterprise's declaration with its evidence; ``differs`` when it is not the
    computed class."""
    _check_class(declared_class, "declared_class")
    if not evidence.strip():
        raise InputError("a declaration needs its evidence", field="evidence")
    row = get(session, principal, determination_id)
    if row.status == "decided":
        raise InputError("the determination is already decided", field="status")
    row.declared_class = declared_class
    row.declared_intensity = declared_intensity
    row.declared_evidence = evidence.strip()
    row.declared_by = principal.subject
    row.declared_at = datetime.now(UTC)
    row.status = "declared" if declared_class == row.computed_class else "differs"
    session.flush()
    return row


def decide(
    session: Session,
    principal: Principal,
    determination_id: int,
    final_class: str,
    evidence: str,
) -> LevelDetermination:
    """The experts' decision (a region user: province, city, inspector or auditor), with who,
    when and on what evidence."""
    _check_class(final_class, "final_class")
    if principal.role is Role.ENTERPRISE:
        raise PermissionDeniedError("an enterprise cannot decide its own level")
    if not evidence.strip():
        raise InputError("a decision needs its evidence", field="evidence")
    row = get(session, principal, determination_id)
    row.final_class = final_class
    row.decision_evidence = evidence.strip()
    row.decided_by = principal.subject
    row.decided_at = datetime.now(UTC)
    row.status = "decided"
    session.flush()
    return row


def effective_class(row: LevelDetermination) -> str | None:
    """The class that counts: the experts' decision, else the computed class."""
    return row.final_class or row.computed_class


__all__ = ["STATUSES", "decide", "declare", "determine", "effective_class", "get", "latest"]
