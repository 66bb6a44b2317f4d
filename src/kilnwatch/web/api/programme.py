"""The efficiency programme (docs/programme.md): the programme view, level determinations
(declare, decide), retrofit plans (一企一策) and their workflow, measured savings (M&V)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kilnwatch.domain.mv import Adjustment
from kilnwatch.programme import determination, plans
from kilnwatch.programme.catalogue import catalogue_json, catalogue_matches
from kilnwatch.programme.energy_factors import energy_factor_records, record_energy_factor
from kilnwatch.programme.exit_grounds import exit_ground_records, record_exit_ground
from kilnwatch.programme.savings import (
    record_savings,
    recorded_savings,
    retrofit_periods,
    unit_savings,
)
from kilnwatch.programme.tables import level_tables
from kilnwatch.programme.view import programme_view
from kilnwatch.store.models import (
    EnergyFactor,
    ExitGround,
    LevelDetermination,
    ProductionUnit,
    RetrofitPlan,
    SavingsVerification,
)
from kilnwatch.store.repos.scope import visible_row
from kilnwatch.web.deps import OptionalPeriodDep, PeriodDep, PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/programme", tags=["programme"])


def determination_json(d: LevelDetermination) -> dict[str, Any]:
    """A determination with its unit, the table behind the computed class, and who said what."""
    return {
        "id": d.id,
        "unit_id": d.unit_id,
        "unit_code": d.unit.code,
        "enterprise_uscc": d.enterprise.uscc,
        "enterprise_name": d.enterprise.name,
        "period": d.period,
        "level_field": d.level_field,
        "computed_intensity": d.computed_intensity,
        "intensity_unit": d.intensity_unit,
        "computed_class": d.computed_class,
        "computed_table": d.computed_table,
        "computed_table_edition": d.computed_table_edition,
        "computed_notes": d.computed_notes,
        "unclassified_code": d.unclassified_code,
        "energy_factor": d.energy_factor,
        "declared_class": d.declared_class,
        "declared_evidence": d.declared_evidence,
        "declared_by": d.declared_by,
        "declared_at": d.declared_at,
        "final_class": d.final_class,
        "decision_evidence": d.decision_evidence,
        "decided_by": d.decided_by,
        "decided_at": d.decided_at,
        "status": d.status,
        "created_at": d.created_at,
    }


def plan_json(p: RetrofitPlan) -> dict[str, Any]:
    """A plan with its measures, milestones and history."""
    return {
        "id": p.id,
        "enterprise_uscc": p.enterprise.uscc,
        "unit_id": p.unit_id,
        "unit_code": p.unit.code,
        "title": p.title,
        "measures": p.measures,
        "investment_cny": p.investment_cny,
        "expected_saving_tce_per_year": p.expected_saving_tce_per_year,
        "responsible": p.responsible,
        "start_on": p.start_on,
        "deadline_on": p.deadline_on,
        "status": p.status,
        "milestones": [
            {"id": m.id, "title": m.title, "due_on": m.due_on, "done_on": m.done_on}
            for m in p.milestones
        ],
        "history": p.history,
    }


def _unit_row_json(
    row: SavingsVerification | EnergyFactor | ExitGround, names: str
) -> dict[str, Any]:
    """``id``, ``unit_id``, ``unit_code`` and the attributes ``names`` (space-separated)."""
    doc: dict[str, Any] = {"id": row.id, "unit_id": row.unit_id, "unit_code": row.unit.code}
    return doc | {name: getattr(row, name) for name in names.split()}


def savings_json(s: SavingsVerification) -> dict[str, Any]:
    """A stored measurement: the figures and the full model/result detail."""
    return _unit_row_json(
        s,
        "plan_id effective_on savings_tce savings_fraction uncertainty_fraction confidence "
        "significant cv_rmse reporting_class reporting_table adjustments detail created_by "
        "created_at",
    )


@router.get("/view")
def view(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    period: PeriodDep,
    today: date | None = None,
) -> dict[str, Any]:
    """Stages (below baseline, in retrofit, retrofitted, verified, eliminated) with units and
    capacity, share at benchmark by month against the target, leaders, elimination, alerts."""
    v = programme_view(
        session, principal, period, today or date.today(), settings.province,
        level_tables(settings),
    )  # fmt: skip
    return {
        "period": v.period,
        "today": v.today,
        **v.coverage_json(),
        "stages": v.stages,
        "share_by_month": [
            {"month": m, "share_fraction": s, "target_fraction": t} for m, s, t in v.share_by_month
        ],  # fmt: skip
        "leaders": v.leaders,
        "eliminations": v.eliminations,
        "alerts": v.alerts,
        "intensity_change_fraction": v.intensity_change_fraction,
        "intensity_notes": v.intensity_notes,
        "obsolete": catalogue_json(v.catalogue),
        "exit_grounds": v.exit_grounds,
    }


@router.get("/obsolete")
def obsolete(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> list[dict[str, object]]:
    """Units whose equipment attributes match an obsolete-equipment rule (淘汰类), each rule
    with its document, evidence, deadline, source and confidence, and the rules a unit could
    not be judged on for lack of attributes."""
    return catalogue_json(catalogue_matches(session, principal, settings.province))


class ExitGroundIn(BaseModel):
    unit_id: int
    kind: str = Field(description="safety | environment | technology | quality")
    finding: str = Field(description="breach (an exit ground) | meets")
    standard: str = Field(min_length=1, max_length=200)
    evidence: str = Field(min_length=1)
    determined_by: str = Field(min_length=1, max_length=64)
    determined_on: date
    deadline_on: date | None = None


def exit_ground_json(g: ExitGround) -> dict[str, Any]:
    """A recorded determination on one kind of standard, with who, when and the evidence."""
    return _unit_row_json(
        g, "kind finding standard evidence determined_by determined_on deadline_on recorded_by "
        "recorded_at",
    )  # fmt: skip


@router.get("/exit-grounds")
def list_exit_grounds(
    session: SessionDep, principal: PrincipalDep, unit_id: int | None = None
) -> list[dict[str, Any]]:
    """Every recorded exit-ground determination the user may see, newest first."""
    return [exit_ground_json(g) for g in exit_ground_records(session, principal, unit_id)]


@router.post("/exit-grounds", status_code=201)
def add_exit_ground(
    session: SessionDep, principal: PrincipalDep, body: ExitGroundIn
) -> dict[str, Any]:
    """Record a determination on the safety, environment, technology or quality standard
    (the energy ground comes from the levels); refused to an enterprise user."""
    row = record_exit_ground(
        session, principal, body.unit_id, body.kind, body.finding, body.standard,
        body.evidence, body.determined_by, body.determined_on, body.deadline_on,
    )  # fmt: skip
    return exit_ground_json(row)


@router.get("/determinations")
def list_determinations(
    session: SessionDep, principal: PrincipalDep, period: OptionalPeriodDep = None
) -> list[dict[str, Any]]:
    """The newest determination of each visible unit (for ``period`` when given)."""
    label = period.label if period is not None else None
    return [determination_json(d) for d in determination.latest(session, principal, label)]


@router.post("/determinations", status_code=201)
def run_determinations(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, period: PeriodDep
) -> list[dict[str, Any]]:
    """Compute and store a determination for every visible unit (table id and edition kept)."""
    rows = determination.determine(session, principal, period, level_tables(settings))
    return [determination_json(d) for d in rows]


class Declaration(BaseModel):
    level_class: str = Field(alias="class", description="benchmark, between, below_baseline")
    evidence: str
    intensity: float | None = None


class Decision(BaseModel):
    level_class: str = Field(alias="class", description="benchmark, between, below_baseline")
    evidence: str


@router.post("/determinations/{determination_id}/declare")
def declare(
    session: SessionDep, principal: PrincipalDep, determination_id: int, body: Declaration
) -> dict[str, Any]:
    """The enterprise declares its class with its evidence."""
    row = determination.declare(
        session, principal, determination_id, body.level_class, body.evidence, body.intensity
    )
    return determination_json(row)


@router.post("/determinations/{determination_id}/decide")
def decide(
    session: SessionDep, principal: PrincipalDep, determination_id: int, body: Decision
) -> dict[str, Any]:
    """The experts' decision (not an enterprise user)."""
    row = determination.decide(
        session, principal, determination_id, body.level_class, body.evidence
    )
    return determination_json(row)


class EnergyFactorIn(BaseModel):
    unit_id: int
    energy_factor: float = Field(gt=0, description="The refinery's energy factor (能量因数) [-]")
    valid_from: date
    evidence: str


def energy_factor_json(f: EnergyFactor) -> dict[str, Any]:
    """A recorded refinery energy factor with who recorded it and on what evidence."""
    return _unit_row_json(f, "energy_factor valid_from evidence recorded_by recorded_at")


@router.get("/energy-factors")
def list_energy_factors(
    session: SessionDep, principal: PrincipalDep, unit_id: int | None = None
) -> list[dict[str, Any]]:
    """Every recorded refinery energy factor the user may see, newest first."""
    return [energy_factor_json(f) for f in energy_factor_records(session, principal, unit_id)]


@router.post("/energy-factors", status_code=201)
def add_energy_factor(
    session: SessionDep, principal: PrincipalDep, body: EnergyFactorIn
) -> dict[str, Any]:
    """Record a refinery's energy factor from ``valid_from`` on (GB 30251-2024 indicator)."""
    row = record_energy_factor(
        session, principal, body.unit_id, body.energy_factor, body.valid_from, body.evidence
    )
    return energy_factor_json(row)


class MeasureIn(BaseModel):
    name: str
    investment_cny: float = Field(ge=0)
    expected_saving_tce_per_year: float = Field(ge=0)


class MilestoneIn(BaseModel):
    title: str
    due_on: date


class PlanIn(BaseModel):
    unit_id: int
    title: str
    measures: list[MeasureIn]
    responsible: str
    start_on: date
    deadline_on: date | None = None
    milestones: list[MilestoneIn] = []


class ActionIn(BaseModel):
    action: str
    note: str = ""


def _visible_unit(session: SessionDep, principal: PrincipalDep, unit_id: int) -> ProductionUnit:
    return visible_row(session, ProductionUnit, unit_id, principal, "unit")


@router.get("/plans")
def list_plans(session: SessionDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Every visible plan, newest first."""
    return [plan_json(p) for p in plans.plans(session, principal)]


@router.post("/plans", status_code=201)
def create_plan(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, body: PlanIn
) -> dict[str, Any]:
    """Draft a plan; the deadline defaults to, and may not pass, the policy's."""
    plan = plans.create_plan(
        session,
        principal,
        _visible_unit(session, principal, body.unit_id),
        title=body.title,
        measures=[
            plans.Measure(m.name, m.investment_cny, m.expected_saving_tce_per_year)
            for m in body.measures
        ],  # fmt: skip
        responsible=body.responsible,
        start_on=body.start_on,
        deadline_on=body.deadline_on,
        milestones=[(m.title, m.due_on) for m in body.milestones],
        province=settings.province,
    )
    return plan_json(plan)


@router.post("/plans/{plan_id}/actions")
def plan_action(
    session: SessionDep, principal: PrincipalDep, plan_id: int, body: ActionIn
) -> dict[str, Any]:
    """submit (enterprise), city_review (city), approve (province), reject, complete."""
    return plan_json(plans.act(session, principal, plan_id, body.action, body.note))


@router.get("/alerts")
def alerts(
    session: SessionDep,
    principal: PrincipalDep,
    today: Annotated[date | None, Query(description="As of this day (default today).")] = None,
) -> list[plans.PlanAlert]:
    """Plans that slip: overdue milestones and passed deadlines."""
    return plans.slipping(session, principal, today or date.today())


class AdjustmentIn(BaseModel):
    energy_tce: float
    reason: str


class SavingsIn(BaseModel):
    unit_id: int
    effective_on: date
    baseline_first: date
    reporting_last: date
    intervention_days: int = Field(default=0, ge=0)
    adjustments: list[AdjustmentIn] = []
    plan_id: int | None = None
    record: bool = True


@router.get("/savings")
def list_savings(session: SessionDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Stored measurements, newest first."""
    return [savings_json(s) for s in recorded_savings(session, principal)]


@router.post("/savings")
def measure(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, body: SavingsIn
) -> dict[str, Any]:
    """Measured savings of a retrofit: model, statistics, savings with their interval; stored
    with who and when unless ``record`` is false."""
    unit = _visible_unit(session, principal, body.unit_id)
    baseline, reporting = retrofit_periods(
        body.effective_on, body.baseline_first, body.reporting_last, settings.zone,
        body.intervention_days,
    )  # fmt: skip
    adjustments = tuple(Adjustment(a.energy_tce, a.reason, principal.subject)
                        for a in body.adjustments)  # fmt: skip
    result = unit_savings(session, unit, baseline, reporting, adjustments=adjustments)
    payload = result.to_json()
    if body.record:
        row = record_savings(session, principal, unit, result, body.effective_on,
                             adjustments=adjustments, plan_id=body.plan_id)  # fmt: skip
        payload["id"] = row.id
    return payload
