""" "两高" projects and production control: the register with stage advances, caps, and the
weekly joint report (generate, correct, sign, submit; the province's view). docs/projects.md.

Handlers parse, call a :mod:`kilnwatch.projects` service and return a schema; the services
scope by the principal (outside the jurisdiction is "not found").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from kilnwatch.domain.projects import Blocker, Ledger
from kilnwatch.projects import control, dispatch, register, visits, weekly
from kilnwatch.projects.register import ProjectStatus
from kilnwatch.web.deps import PeriodDep, PrincipalDep, SessionDep, SettingsDep
from kilnwatch.web.schemas.projects import (
    BlockerPublic,
    CapCreate,
    CapUsePublic,
    CorrectionCreate,
    DispatchEntryCreate,
    DispatchPublic,
    LedgerPublic,
    LogCreate,
    LogPublic,
    ProjectStatusPublic,
    SignatureCreate,
    SignaturePublic,
    StageRequest,
    StageResult,
    SupervisorCreate,
    SupervisorPublic,
    VisitCreate,
    VisitPublic,
    WeeklyCreate,
    WeeklyPublic,
)

router = APIRouter(prefix="/projects", tags=["projects"])
Week = Annotated[str, Query(description="ISO week, e.g. 2025-W10")]


def blocker_public(b: Blocker) -> BlockerPublic:
    return BlockerPublic(code=b.code, message=b.message, evidence=dict(b.evidence))


def _ledger(led: Ledger | None) -> LedgerPublic | None:
    if led is None:
        return None
    return LedgerPublic(base=led.base, unit=led.unit, ratio=led.ratio, required=led.required,
                        committed=led.committed, done=led.done, balance=led.balance,
                        balanced=led.balanced, fulfilled=led.fulfilled,
                        prohibited=led.prohibited)  # fmt: skip


def status_public(st: ProjectStatus) -> ProjectStatusPublic:
    p, e = st.project, st.project.enterprise
    return ProjectStatusPublic(
        id=p.id, code=p.code, name=p.name, enterprise_uscc=e.uscc, enterprise_name=e.name,
        region_code=e.region_code, stage=p.stage, region_class=st.region_class,
        capacity=p.capacity, capacity_unit=p.capacity_unit, replacement_kind=p.replacement_kind,
        coal_t_per_year=p.coal_t_per_year, approvals=st.approvals,
        replacement=_ledger(st.replacement), coal=_ledger(st.coal), next_stage=st.next_stage,
        blockers=[blocker_public(b) for b in st.blockers],
    )  # fmt: skip


@router.get("/register")
def list_register(
    session: SessionDep, principal: PrincipalDep, stage: str | None = None, city: str | None = None
) -> list[ProjectStatusPublic]:
    """Projects with their stage, approvals, both ledgers and what blocks the next stage."""
    return [status_public(s) for s in register.list_projects(session, principal, stage=stage,
                                                             city=city)]  # fmt: skip


@router.get("/register/{project_id}")
def get_project(
    session: SessionDep, principal: PrincipalDep, project_id: int
) -> ProjectStatusPublic:
    return status_public(register.project_status(session, principal, project_id))


@router.post("/register/{project_id}/stage")
def advance(
    session: SessionDep, principal: PrincipalDep, project_id: int, body: StageRequest
) -> StageResult:
    """Ask to move a project to ``stage``; refused with the blockers when the rules say no
    (the request is stored either way)."""
    st, blockers = register.advance_stage(session, principal, project_id, body.stage)
    return StageResult(granted=not blockers, blockers=[blocker_public(b) for b in blockers],
                       project=status_public(st))  # fmt: skip


def weekly_public(view: weekly.WeekView) -> WeeklyPublic:
    rep = view.report
    return WeeklyPublic(
        id=rep.id if rep else None, city_code=view.city_code, week=view.week,
        status=view.status, rows=view.rows,
        signatures=[SignaturePublic(department=s.department, signer=s.signer, opinion=s.opinion,
                                    signed_at=s.signed_at) for s in view.signatures],
        generated_at=rep.generated_at if rep else None,
        submitted_at=rep.submitted_at if rep else None,
    )  # fmt: skip


def _view(session: SessionDep, principal: PrincipalDep, settings: SettingsDep, city: str,
          week: str) -> WeeklyPublic:  # fmt: skip
    return weekly_public(weekly.week_view(session, principal, city, week, zone=settings.zone))


@router.get("/weekly")
def get_weekly(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, week: Week, city: str
) -> WeeklyPublic:
    """A city's weekly joint report (the signed snapshot, or the rows computed now)."""
    return _view(session, principal, settings, city, week)


@router.post("/weekly", status_code=201)
def generate_weekly(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, body: WeeklyCreate
) -> WeeklyPublic:
    """Generate (or refresh) the city's draft from metered data; signatures are voided."""
    report = weekly.generate(session, principal, body.city, body.week, zone=settings.zone)
    return _view(session, principal, settings, report.city_code, report.week)


@router.post("/weekly/{report_id}/corrections")
def correct_weekly(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, report_id: int,
    body: CorrectionCreate,
) -> WeeklyPublic:  # fmt: skip
    report = weekly.correct(session, principal, report_id, body.uscc, body.field, body.value)
    return _view(session, principal, settings, report.city_code, report.week)


@router.post("/weekly/{report_id}/signatures", status_code=201)
def sign_weekly(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, report_id: int,
    body: SignatureCreate,
) -> WeeklyPublic:  # fmt: skip
    sig = weekly.sign(session, principal, report_id, body.department, body.opinion)
    return _view(session, principal, settings, sig.report.city_code, sig.report.week)


@router.post("/weekly/{report_id}/submit")
def submit_weekly(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, report_id: int
) -> WeeklyPublic:
    """Submit to the province (all four departments must have signed)."""
    report = weekly.submit(session, principal, report_id)
    return _view(session, principal, settings, report.city_code, report.week)


@router.get("/weekly/province")
def province_weekly(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, week: Week
) -> list[weekly.CityWeek]:
    """Every city with production-controlled enterprises: status, late, differences from
    metering, cap breaches; late cities first."""
    cities = weekly.province_week(
        session, principal, week, zone=settings.zone, due_h=settings.weekly_report_due_h,
        tolerance_fraction=settings.weekly_difference_tolerance_fraction,
    )  # fmt: skip
    return cities


@router.get("/dispatch")
def get_dispatch(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    day: date,
    city: str | None = None,
) -> DispatchPublic:
    """A day's dispatch of the producing projects: output and energy from meters (entries
    where no meter exists), missing and late meters; the province's view by city."""
    days = dispatch.dispatch_day(
        session, principal, day, zone=settings.zone, due_h=settings.dispatch_due_h, city=city
    )
    return DispatchPublic(day=day, cities=dispatch.by_city(days), projects=days)


@router.post("/dispatch/entries", status_code=201)
def post_dispatch_entry(
    session: SessionDep, principal: PrincipalDep, body: DispatchEntryCreate
) -> dispatch.CarrierDay:
    e = dispatch.enter_figure(
        session, principal, body.project_id, body.day, body.carrier, body.quantity, body.unit
    )
    return dispatch.CarrierDay(e.carrier, e.quantity, e.unit_of_measure, "entry")


@router.get("/register/{project_id}/visits")
def list_visits(session: SessionDep, principal: PrincipalDep, project_id: int) -> list[VisitPublic]:
    return [VisitPublic.model_validate(v) for v in visits.visits_of(session, principal, project_id)]


@router.post("/register/{project_id}/visits", status_code=201)
def post_visit(
    session: SessionDep, principal: PrincipalDep, project_id: int, body: VisitCreate
) -> VisitPublic:
    """Record the month's on-site visit; each follow-up opens a rectification (supervision)."""
    follow = [visits.FollowUpRequest(f.item, f.requirement, f.due_on) for f in body.follow_ups]
    v = visits.record_visit(
        session,
        principal,
        project_id,
        body.visited_on,
        inspectors=body.inspectors,
        checklist=body.checklist,
        findings=body.findings,
        follow_ups=follow,
    )
    session.refresh(v)
    return VisitPublic.model_validate(v)


def _cap_public(u: control.CapUse) -> CapUsePublic:
    c, e = u.cap, u.cap.enterprise
    return CapUsePublic(
        enterprise_uscc=e.uscc,
        enterprise_name=e.name,
        period=c.period,
        product=c.product,
        output_t=c.output_t,
        energy_tce=c.energy_tce,
        coal_t=c.coal_t,
        used_output_t=u.output_t,
        used_energy_tce=u.energy_tce,
        used_coal_t=u.coal_t,
        elapsed_fraction=u.elapsed_fraction,
        breaches=u.breaches,
    )


@router.get("/caps")
def list_caps(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    period: PeriodDep,
    city: str | None = None,
) -> list[CapUsePublic]:
    """Caps overlapping ``period`` and their use to the period's end (or today)."""
    caps = control.caps_in(session, principal, period, city=city)
    today = datetime.now(settings.zone).date()
    through = min(period.stop, today + timedelta(days=1))
    return [_cap_public(u) for u in control.cap_uses(session, caps, through, settings.zone)]


@router.post("/caps", status_code=201)
def post_cap(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, body: CapCreate
) -> CapUsePublic:
    cap = control.set_cap(
        session,
        principal,
        body.enterprise_id,
        body.period,
        body.product,
        output_t=body.output_t,
        energy_tce=body.energy_tce,
        coal_t=body.coal_t,
        document_no=body.document_no,
        zone=settings.zone,
    )
    session.refresh(cap)
    today = datetime.now(settings.zone).date()
    return _cap_public(control.cap_uses(session, [cap], today, settings.zone)[0])


@router.get("/supervisors")
def list_supervisors(
    session: SessionDep, principal: PrincipalDep, city: str | None = None
) -> list[SupervisorPublic]:
    return [
        SupervisorPublic.model_validate(s, from_attributes=True)
        for s in control.supervisors(session, principal, city=city)
    ]


@router.post("/supervisors", status_code=201)
def post_supervisor(
    session: SessionDep, principal: PrincipalDep, body: SupervisorCreate
) -> SupervisorPublic:
    sup = control.assign_supervisor(
        session,
        principal,
        body.enterprise_id,
        body.name,
        body.department,
        body.assigned_on,
        username=body.username,
    )
    return SupervisorPublic.model_validate(sup, from_attributes=True)


@router.post("/supervisors/{supervisor_id}/logs", status_code=201)
def post_log(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    supervisor_id: int,
    body: LogCreate,
) -> LogPublic:
    """A resident supervisor's weekly log (the supervisor's own user or a region writer)."""
    log = control.write_log(
        session,
        principal,
        supervisor_id,
        body.week,
        days_on_site=body.days_on_site,
        observed_output_t=body.observed_output_t,
        production_normal=body.production_normal,
        notes=body.notes,
        zone=settings.zone,
    )
    return LogPublic.model_validate(log, from_attributes=True)


@router.get("/supervisors/logs")
def list_logs(
    session: SessionDep, principal: PrincipalDep, week: Week, city: str | None = None
) -> list[LogPublic]:
    return [
        LogPublic.model_validate(g, from_attributes=True)
        for g in control.logs_of_week(session, principal, week, city=city)
    ]
