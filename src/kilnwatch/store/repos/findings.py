"""Findings and credibility scores: sync by fingerprint, scoped listing, lookups.

Re-running verification updates a finding with the same fingerprint (its evidence, severity
and magnitude) instead of duplicating it; an open finding that a re-run no longer raises is
closed; a closed one raised again re-opens. Confirmed and dismissed findings keep their status.
Repositories add and flush; they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from kilnwatch.errors import NotFoundError
from kilnwatch.identity import Principal
from kilnwatch.store.models import CredibilityScore, FindingRecord
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.scope import owned_by_visible_enterprise

UPDATED_FIELDS = (
    "severity",
    "message",
    "evidence",
    "magnitude_fraction",
    "magnitude_tce",
    "start_at",
    "end_at",
    "unit_id",
    "meter_id",
)


@dataclass
class SyncCounts:
    new: int = 0
    updated: int = 0
    closed: int = 0


def sync_findings(
    session: Session,
    findings: Sequence[Any],
    scope: Iterable[tuple[int, str]],
    run_id: int | None,
) -> SyncCounts:
    """Store ``findings`` (``verify.findings.Finding``) for the (enterprise, period) pairs
    of ``scope``."""
    pairs = sorted(set(scope))
    counts = SyncCounts()
    if not pairs:
        return counts
    existing = {
        f.fingerprint: f
        for f in session.scalars(
            select(FindingRecord).where(
                tuple_(FindingRecord.enterprise_id, FindingRecord.period).in_(pairs)
            )
        )
    }
    now = utcnow()
    seen = set()
    for f in findings:
        seen.add(f.fingerprint)
        record = existing.get(f.fingerprint)
        if record is None:
            record = FindingRecord(
                fingerprint=f.fingerprint,
                rule_code=f.rule_code,
                enterprise_id=f.enterprise_id,
                period=f.period,
                status="open",
                first_seen_at=now,
            )
            session.add(record)
            existing[f.fingerprint] = record
            counts.new += 1
        else:
            counts.updated += 1
            if record.status == "closed":
                record.status = "open"
        for name in UPDATED_FIELDS:
            setattr(record, name, getattr(f, name))
        record.last_seen_at, record.run_id = now, run_id
    for fingerprint, record in existing.items():
        if fingerprint not in seen and record.status == "open":
            record.status, record.run_id = "closed", run_id
            counts.closed += 1
    session.flush()
    return counts


def findings_of(session: Session, enterprise_id: int, period: str) -> list[FindingRecord]:
    stmt = select(FindingRecord).where(
        FindingRecord.enterprise_id == enterprise_id, FindingRecord.period == period
    )
    return list(session.scalars(stmt))


def save_score(
    session: Session,
    enterprise_id: int,
    period: str,
    score: float,
    deductions: list[dict[str, Any]],
) -> CredibilityScore:
    row = session.scalar(
        select(CredibilityScore).where(
            CredibilityScore.enterprise_id == enterprise_id, CredibilityScore.period == period
        )
    )
    if row is None:
        row = CredibilityScore(enterprise_id=enterprise_id, period=period)
        session.add(row)
    row.score, row.deductions, row.open_findings = score, deductions, len(deductions)
    row.computed_at = utcnow()
    session.flush()
    return row


@dataclass(frozen=True)
class FindingFilter:
    enterprise_id: int | None = None
    rule_code: str | None = None
    severity: str | None = None
    status: str | None = None
    months: Sequence[str] | None = None
    """Verification months (``YYYY-MM``) to keep; None keeps every period."""


@dataclass
class Page:
    items: list[Any]
    total: int
    offset: int
    limit: int


def list_findings(
    session: Session, principal: Principal, f: FindingFilter, offset: int, limit: int
) -> Page:
    stmt = select(FindingRecord).where(
        owned_by_visible_enterprise(FindingRecord.enterprise_id, principal)
    )
    for column, value in (
        (FindingRecord.enterprise_id, f.enterprise_id),
        (FindingRecord.severity, f.severity),
        (FindingRecord.status, f.status),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.months is not None:
        stmt = stmt.where(FindingRecord.period.in_(f.months))
    if f.rule_code:
        stmt = stmt.where(FindingRecord.rule_code.startswith(f.rule_code))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(FindingRecord.id).offset(offset).limit(limit))
    return Page(list(rows), total, offset, limit)


def get_finding(session: Session, principal: Principal, finding_id: int) -> FindingRecord:
    stmt = select(FindingRecord).where(
        FindingRecord.id == finding_id,
        owned_by_visible_enterprise(FindingRecord.enterprise_id, principal),
    )
    record = session.scalar(stmt)
    if record is None:
        raise NotFoundError(f"finding {finding_id} not found")
    return record


def set_status(
    session: Session, principal: Principal, finding_id: int, status: str
) -> FindingRecord:
    record = get_finding(session, principal, finding_id)
    record.status = status
    session.flush()
    return record


def list_scores(
    session: Session,
    principal: Principal,
    months: Sequence[str] | None,
    enterprise_id: int | None,
    offset: int,
    limit: int,
) -> Page:
    """Credibility scores, lowest first; ``months`` (``YYYY-MM``) keeps those periods only."""
    stmt = select(CredibilityScore).where(
        owned_by_visible_enterprise(CredibilityScore.enterprise_id, principal)
    )
    if months is not None:
        stmt = stmt.where(CredibilityScore.period.in_(months))
    if enterprise_id is not None:
        stmt = stmt.where(CredibilityScore.enterprise_id == enterprise_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(CredibilityScore.score).offset(offset).limit(limit))
    return Page(list(rows), total, offset, limit)
