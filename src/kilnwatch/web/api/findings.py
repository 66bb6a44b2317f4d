"""Findings and credibility scores: list (filtered, scoped), get one with evidence, set status.

Scoping is done by the repository (``store.repos.scope``); handlers only parse and shape.
Verification is monthly: a ``period`` filter longer than a month (``2025-Q1``, ``2025``) keeps
the findings and scores of each month in it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from kilnwatch.errors import PermissionDeniedError
from kilnwatch.identity import Role
from kilnwatch.store.repos import findings as repo
from kilnwatch.store.repos.finding_actions import STATUS_ACTION, act_on_finding, events_of
from kilnwatch.web.deps import OptionalPeriodDep, PrincipalDep, SessionDep
from kilnwatch.web.schemas.common import PageOf, page_of

router = APIRouter(tags=["findings"])

Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]
Status = Annotated[str | None, Query(pattern="^(open|confirmed|dismissed|closed)$")]
Severity = Annotated[str | None, Query(pattern="^(info|low|medium|high)$")]


class FindingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    fingerprint: str
    rule_code: str
    enterprise_id: int
    unit_id: int | None
    meter_id: int | None
    period: str
    start_at: datetime
    end_at: datetime
    severity: str
    status: str
    message: str
    magnitude_fraction: float | None
    magnitude_tce: float | None
    first_seen_at: datetime
    last_seen_at: datetime


class FindingDetail(FindingPublic):
    evidence: dict[str, Any]


class FindingStatusUpdate(BaseModel):
    """A status change with its reason; recorded with who and when (``finding_events``)."""

    status: Annotated[str, Field(pattern="^(open|confirmed|dismissed|closed)$")]
    comment: Annotated[str, Field(min_length=2, max_length=2000)]
    assignee: str | None = None


class FindingEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: str
    to_status: str
    assignee: str | None
    comment: str
    actor: str
    at: datetime


class CredibilityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    enterprise_id: int
    period: str
    score: float
    open_findings: int
    deductions: list[dict[str, Any]]
    computed_at: datetime


@router.get("/findings")
def list_findings(
    session: SessionDep,
    principal: PrincipalDep,
    enterprise_id: int | None = None,
    rule_code: str | None = None,
    severity: Severity = None,
    status: Status = None,
    period: OptionalPeriodDep = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOf[FindingPublic]:
    months = None if period is None else period.months()
    f = repo.FindingFilter(enterprise_id, rule_code, severity, status, months)
    page = repo.list_findings(session, principal, f, offset, limit)
    return PageOf[FindingPublic].model_validate(page_of(page, FindingPublic))


@router.get("/findings/{finding_id}")
def get_finding(session: SessionDep, principal: PrincipalDep, finding_id: int) -> FindingDetail:
    return FindingDetail.model_validate(repo.get_finding(session, principal, finding_id))


@router.patch("/findings/{finding_id}")
def update_finding(
    session: SessionDep, principal: PrincipalDep, finding_id: int, body: FindingStatusUpdate
) -> FindingDetail:
    if principal.role is Role.ENTERPRISE:
        raise PermissionDeniedError("an enterprise user may not change a finding's status")
    record, _ = act_on_finding(
        session, principal, finding_id, STATUS_ACTION[body.status], body.comment, body.assignee
    )
    return FindingDetail.model_validate(record)


@router.get("/findings/{finding_id}/events")
def finding_events(
    session: SessionDep, principal: PrincipalDep, finding_id: int
) -> list[FindingEventPublic]:
    """Who changed the finding's status or assignment, when, and why, oldest first."""
    record = repo.get_finding(session, principal, finding_id)
    return [FindingEventPublic.model_validate(e) for e in events_of(session, record.id)]


@router.get("/credibility")
def list_credibility(
    session: SessionDep,
    principal: PrincipalDep,
    period: OptionalPeriodDep = None,
    enterprise_id: int | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> PageOf[CredibilityPublic]:
    months = None if period is None else period.months()
    page = repo.list_scores(session, principal, months, enterprise_id, offset, limit)
    return PageOf[CredibilityPublic].model_validate(page_of(page, CredibilityPublic))
