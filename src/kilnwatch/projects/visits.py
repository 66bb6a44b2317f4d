"""Monthly on-site supervision (月度现场监管) of "两高" projects: one visit per project and month
with its checklist (``reference/projects/site_checklist.csv``), findings, photos and
follow-ups. Each follow-up opens a rectification in the supervision workflow
(:func:`kilnwatch.supervise.rectification.open_rectification`, source ``projects.onsite``,
reference ``<project>/<month>/<item>``), so it is tracked, notified and escalated there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.identity import Principal
from kilnwatch.projects.register import project_status
from kilnwatch.reference.projects import load_site_checklist
from kilnwatch.store.models import SiteFollowUp, SiteVisit
from kilnwatch.supervise.rectification import open_rectification

CHECK_RESULTS = ("ok", "not_ok", "na")
SOURCE_CODE = "projects.onsite"
MAX_PHOTOS = 12


@dataclass(frozen=True)
class FollowUpRequest:
    """What must be rectified after a visit: the checklist item, what to do, by when."""

    item: str
    requirement: str
    due_on: date


def record_visit(
    session: Session, principal: Principal, project_id: int, visited_on: date, *,
    inspectors: str, checklist: dict[str, str], findings: str = "",
    follow_ups: list[FollowUpRequest] | None = None,
) -> SiteVisit:  # fmt: skip
    """Record the month's visit of a project (region writers), opening a rectification per
    follow-up; a second visit in the same month is refused."""
    if not principal.may_write_registry:
        raise PermissionDeniedError(f"a {principal.role.value} user may not record visits")
    project = project_status(session, principal, project_id).project
    known = {c.item for c in load_site_checklist()}
    for item, result in checklist.items():
        if item not in known:
            raise InputError(f"unknown checklist item {item!r}", field="checklist")
        if result not in CHECK_RESULTS:
            raise InputError(f"{item}: {result!r} is not one of {', '.join(CHECK_RESULTS)}",
                             field="checklist")  # fmt: skip
    if not inspectors.strip():
        raise InputError("name the inspectors", field="inspectors")
    month = f"{visited_on:%Y-%m}"
    exists = session.scalar(
        select(SiteVisit.id).where(SiteVisit.project_id == project_id, SiteVisit.month == month)
    )
    if exists is not None:
        raise InputError(f"project {project.code} already has its visit of {month}", field="month")
    visit = SiteVisit(project_id=project.id, month=month, visited_on=visited_on,
                      inspectors=inspectors.strip(), checklist=dict(checklist), findings=findings,
                      photos=[], recorded_by=principal.subject)  # fmt: skip
    session.add(visit)
    session.flush()
    for req in follow_ups or []:
        if req.item not in known:
            raise InputError(f"unknown checklist item {req.item!r}", field="item")
        if not req.requirement.strip():
            raise InputError("say what must be rectified", field="requirement")
        if req.due_on < visited_on:
            raise InputError("the deadline is before the visit", field="due_on")
        rect = open_rectification(
            session, enterprise_id=project.enterprise_id, source_code=SOURCE_CODE,
            source_ref=f"{project.code}/{month}/{req.item}",
            title=f"月度现场监管：{project.name}（{req.item}）", due_date=req.due_on,
            required_action=req.requirement, actor=principal.subject,
        )  # fmt: skip
        session.add(SiteFollowUp(visit_id=visit.id, item=req.item, requirement=req.requirement,
                                 due_on=req.due_on, rectification_ref=str(rect.id)))  # fmt: skip
    session.flush()
    return visit


def add_photo(visit: SiteVisit, name: str) -> None:
    """Note a stored photo's file name on the visit (the caller stores the bytes)."""
    if len(visit.photos) >= MAX_PHOTOS:
        raise InputError(f"at most {MAX_PHOTOS} photos per visit", field="photo")
    visit.photos = [*visit.photos, name]


def visits_of(session: Session, principal: Principal, project_id: int) -> list[SiteVisit]:
    """A project's visits, newest first, with their follow-ups."""
    project_status(session, principal, project_id)  # scope check
    return list(
        session.scalars(
            select(SiteVisit)
            .where(SiteVisit.project_id == project_id)
            .options(selectinload(SiteVisit.follow_ups))
            .order_by(SiteVisit.month.desc())
        )
    )


def missing_visits(session: Session, month: str, project_ids: list[int]) -> list[int]:
    """Of ``project_ids`` (from a scoped list), those without a visit in ``month``."""
    seen = set(
        session.scalars(
            select(SiteVisit.project_id).where(
                SiteVisit.month == month, SiteVisit.project_id.in_(project_ids)
            )
        )
    )
    return [pid for pid in project_ids if pid not in seen]


__all__ = [
    "CHECK_RESULTS",
    "FollowUpRequest",
    "add_photo",
    "missing_visits",
    "record_visit",
    "visits_of",
]
