"""The findings work queue: scoped, filtered by city, industry, rule, severity, status and
period, sorted by severity or magnitude, with the enterprise of each finding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kilnwatch.domain.identifiers import region_prefix
from kilnwatch.identity import Principal
from kilnwatch.store.models import Enterprise, FindingRecord
from kilnwatch.store.repos.scope import enterprise_scope

SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "info": 3}
SORTS = ("severity", "tce", "period", "newest")


@dataclass(frozen=True)
class QueueFilter:
    region_code: str | None = None
    industry: str | None = None
    rule_code: str | None = None
    severity: str | None = None
    status: str | None = None
    period: str | None = None
    enterprise_id: int | None = None


def _where(principal: Principal, f: QueueFilter) -> list[Any]:
    conds: list[Any] = [enterprise_scope(principal)]
    if f.region_code:
        conds.append(Enterprise.region_code.startswith(region_prefix(f.region_code)))
    for column, value in ((Enterprise.industry, f.industry), (FindingRecord.severity, f.severity),
                          (FindingRecord.status, f.status), (FindingRecord.period, f.period),
                          (FindingRecord.enterprise_id, f.enterprise_id)):  # fmt: skip
        if value:
            conds.append(column == value)
    if f.rule_code:
        conds.append(FindingRecord.rule_code.startswith(f.rule_code))
    return conds


def queue(
    session: Session, principal: Principal, f: QueueFilter, sort: str, offset: int, limit: int
) -> tuple[list[tuple[FindingRecord, Enterprise]], int]:
    conds = _where(principal, f)
    base = select(FindingRecord, Enterprise).join(
        Enterprise, Enterprise.id == FindingRecord.enterprise_id
    )
    total = session.scalar(
        select(func.count(FindingRecord.id))
        .join(Enterprise, Enterprise.id == FindingRecord.enterprise_id)
        .where(*conds)
    )
    rank = case(SEVERITY_RANK, value=FindingRecord.severity, else_=9)
    tce = func.coalesce(FindingRecord.magnitude_tce, 0.0)
    order = {
        "severity": (rank, tce.desc(), FindingRecord.id),
        "tce": (tce.desc(), rank, FindingRecord.id),
        "period": (FindingRecord.period.desc(), rank, FindingRecord.id),
        "newest": (FindingRecord.first_seen_at.desc(), FindingRecord.id),
    }[sort if sort in SORTS else "severity"]
    rows = session.execute(base.where(*conds).order_by(*order).offset(offset).limit(limit)).all()
    return [(r[0], r[1]) for r in rows], int(total or 0)


def facets(session: Session, principal: Principal) -> dict[str, list[str]]:
    """Values present in scope for the filter menus: rules, periods, industries."""
    scoped = (
        select(FindingRecord.rule_code, FindingRecord.period, Enterprise.industry)
        .join(Enterprise, Enterprise.id == FindingRecord.enterprise_id)
        .where(enterprise_scope(principal))
        .distinct()
    )
    rules, periods, industries = set(), set(), set()
    for rule, period, industry in session.execute(scoped):
        rules.add(rule)
        periods.add(period)
        industries.add(industry)
    return {"rules": sorted(rules), "periods": sorted(periods, reverse=True),
            "industries": sorted(industries)}  # fmt: skip
