"""Metering endpoints (issue 18, docs/metering.md): the GB 17167 census of the caller's
enterprises, one enterprise's census with its gaps and meter operation, the roll-out by city.

``period`` (optional, default: this month) is the operation window; the census is taken on
its last day or today, whichever comes first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from kilnwatch.config import Settings
from kilnwatch.domain.periods import Period
from kilnwatch.errors import NotFoundError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.metering import (
    CensusRow,
    EnterpriseCensus,
    Gap,
    enterprise_census,
    enterprise_operation,
)
from kilnwatch.metering.census import census_day
from kilnwatch.metering.rectify import rectify_census_gaps
from kilnwatch.metering.rollout import rollout
from kilnwatch.store.models import Enterprise
from kilnwatch.store.repos.scope import enterprise_scope
from kilnwatch.web.deps import OptionalPeriodDep, PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/metering", tags=["metering"])


class CensusPublic(BaseModel):
    uscc: str
    name: str
    region_code: str
    industry: str
    census_day: str
    has_census: bool
    configured: bool
    meters: int
    unlinked_meters: int
    rows: list[CensusRow]
    gaps: list[Gap]


class MeterOperationPublic(BaseModel):
    meter_code: str
    online_fraction: float
    completeness_fraction: float
    calibration_overdue: bool
    events: list[dict[str, Any]]


class EnterpriseMeteringPublic(BaseModel):
    census: CensusPublic
    period: str
    online_fraction: float
    completeness_fraction: float
    calibration_overdue: int
    anomalies: int
    meters: list[MeterOperationPublic]


class RolloutPublic(BaseModel):
    city_code: str
    industry: str
    deadline: str
    enterprises: int
    with_census: int
    configured: int
    progress_fraction: float
    behind: bool


def _period(settings: Settings, period: Period | None) -> Period:
    zone = settings.zone
    return period or Period.containing("month", datetime.now(zone).date(), zone)


def _day(settings: Settings, period: Period) -> Any:
    return census_day(period.stop - timedelta(days=1), datetime.now(settings.zone).date())


def census_public(c: EnterpriseCensus, day: Any) -> CensusPublic:
    return CensusPublic(
        uscc=c.uscc, name=c.name, region_code=c.region_code, industry=c.industry,
        census_day=day.isoformat(), has_census=c.has_census, configured=c.configured,
        meters=c.meters, unlinked_meters=c.unlinked_meters,
        rows=c.rows, gaps=c.gaps,
    )  # fmt: skip


@router.get("/census")
def census(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    period: OptionalPeriodDep,
    city: str | None = None,
) -> list[CensusPublic]:
    """The census of every visible enterprise (``city``: a division code prefix, 3701)."""
    day = _day(settings, _period(settings, period))
    found = enterprise_census(session, principal, day, region_prefix=city)
    return [census_public(c, day) for c in found]


class RectifyOut(BaseModel):
    census_day: str
    gaps: int
    opened: list[int]
    existing: list[int]


@router.post("/rectifications")
def rectify(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    period: OptionalPeriodDep,
    city: str | None = None,
) -> RectifyOut:
    """Open a rectification (supervision item, source ``metering.census``) for every census
    non-conformity of the visible enterprises; items already open for a gap are returned,
    never opened twice. Regulators only (not enterprises, not auditors)."""
    if principal.role in (Role.ENTERPRISE, Role.AUDITOR):
        raise PermissionDeniedError("regulators open rectifications")
    day = _day(settings, _period(settings, period))
    today = datetime.now(settings.zone).date()
    done = rectify_census_gaps(session, principal, day, today, region_prefix=city)
    return RectifyOut(census_day=day.isoformat(), gaps=done.gaps, opened=done.opened,
                      existing=done.existing)  # fmt: skip


def _visible_id(session: Any, principal: Principal, uscc: str) -> int:
    found = session.scalar(
        select(Enterprise.id).where(Enterprise.uscc == uscc, enterprise_scope(principal))
    )
    if found is None:
        raise NotFoundError(f"no enterprise {uscc}")
    return int(found)


@router.get("/enterprises/{uscc}")
def enterprise_metering(
    uscc: str,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    period: OptionalPeriodDep,
) -> EnterpriseMeteringPublic:
    """One enterprise's census, gaps and meter operation over ``period``."""
    ent_id = _visible_id(session, principal, uscc)
    chosen = _period(settings, period)
    day = _day(settings, chosen)
    c = enterprise_census(session, principal, day, enterprise_ids=[ent_id])[0]
    start, end = chosen.start.astimezone(UTC), chosen.end.astimezone(UTC)
    op = enterprise_operation(session, [ent_id], start, end, as_of=day)[ent_id]
    return EnterpriseMeteringPublic(
        census=census_public(c, day), period=chosen.label,
        online_fraction=op.online_fraction, completeness_fraction=op.completeness_fraction,
        calibration_overdue=op.calibration_overdue, anomalies=op.anomalies,
        meters=[MeterOperationPublic(
            meter_code=m.meter_code, online_fraction=m.online_fraction,
            completeness_fraction=m.completeness_fraction,
            calibration_overdue=m.calibration_overdue,
            events=[{"code": e.code, "start": e.start.isoformat(), "end": e.end.isoformat(),
                     "evidence": e.evidence} for e in m.events],
        ) for m in op.meters],
    )  # fmt: skip


@router.get("/rollout")
def rollout_by_city(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, period: OptionalPeriodDep
) -> list[RolloutPublic]:
    """Enterprises with their instruments in place per city, against the 2022 / 2023
    milestones."""
    day = _day(settings, _period(settings, period))
    rows = rollout(enterprise_census(session, principal, day))
    return [
        RolloutPublic(city_code=r.city_code, industry=r.industry,
                      deadline=r.deadline.isoformat(), enterprises=r.enterprises,
                      with_census=r.with_census, configured=r.configured,
                      progress_fraction=r.progress_fraction, behind=r.behind(day))
        for r in rows
    ]  # fmt: skip
