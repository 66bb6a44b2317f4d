"""Findings and credibility scores: list (filtered, scoped), get one with evidence, set status.

Scoping is done by the repository (``store.repos.scope``); handlers only parse and shape.
Verification is monthly: a ``period`` filter longer than a month (``2025-Q1``, ``2025``) keeps
the findings and scores of each month in it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kilnwatch.store.repos import findings as repo
from kilnwatch.store.repos.finding_actions import STATUS_ACTION, act_on_finding, events_of
from kilnwatch.supervise.access import check_finding_writer
from kilnwatch.web.deps import OptionalPeriodDep, PrincipalDep, SessionDep
from kilnwatch.web.schemas.common import PageOf, PageParams, PageQuery, PublicModel, page_of

router = APIRouter(tags=["findings"])

STATUS_PATTERN = "^(open|confirmed|dismissed|closed)$"


class FindingsQuery(PageQuery):
    enterprise_id: int | None = None
    rule_code: str | None = None
    severity: str | None = Field(default=None, pattern="^(info|low|medium|high)$")
    status: str | None = Field(default=None, pattern=STATUS_PATTERN)


class FindingPublic(PublicModel):
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

    status: Annotated[str, Field(pattern=STATUS_PATTERN)]
    comment: Annotated[str, Field(min_length=2, max_length=2000)]
    assignee: str | None = None


class FindingEventPublic(PublicModel):
    action: str
    from_status: str
    to_status: str
    assignee: str | None
    comment: str
    actor: str
    at: datetime


class CredibilityPublic(PublicModel):
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
    query: Annotated[FindingsQuery, Query()],
    period: OptionalPeriodDep = None,
) -> PageOf[FindingPublic]:
    q, months = query, None if period is None else period.months()
    f = repo.FindingFilter(q.enterprise_id, q.rule_code, q.severity, q.status, months)
    found = repo.list_findings(session, principal, f, q.offset, q.limit)
    return PageOf[FindingPublic].model_validate(page_of(found, FindingPublic))


@router.get("/findings/{finding_id}")
def get_finding(session: SessionDep, principal: PrincipalDep, finding_id: int) -> FindingDetail:
    return FindingDetail.model_validate(repo.get_finding(session, principal, finding_id))


@router.patch("/findings/{finding_id}")
def update_finding(
    session: SessionDep, principal: PrincipalDep, finding_id: int, body: FindingStatusUpdate
) -> FindingDetail:
    check_finding_writer(session, principal, finding_id)
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
    page: PageParams,
    period: OptionalPeriodDep = None,
    enterprise_id: int | None = None,
) -> PageOf[CredibilityPublic]:
    months = None if period is None else period.months()
    found = repo.list_scores(session, principal, months, enterprise_id, page.offset, page.limit)
    return PageOf[CredibilityPublic].model_validate(page_of(found, CredibilityPublic))
