"""一企一策: a retrofit plan for each unit below the baseline, drafted by the enterprise,
reviewed by the city and approved by the province, with dated milestones; alerts when a plan
slips.

The deadline may not be later than the policy allows (``reference/programme/policy.csv``:
a province's own date, else start + the national maximum of three years).

References
----------
.. [1] 发改产业〔2021〕1609号 notice: 明确改造升级和淘汰时限（一般不超过3年）, as sourced in
   ``reference/programme/policy.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kilnwatch.errors import InputError, NotFoundError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.reference.programme import retrofit_deadline
from kilnwatch.store.models import PlanMilestone, ProductionUnit, RetrofitPlan
from kilnwatch.store.repos.scope import owned_by_visible_enterprise, visible_row

# action -> (states it may start from, new state, roles that may take it)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, frozenset[Role]]] = {
    "submit": (("draft", "rejected"), "submitted", frozenset({Role.ENTERPRISE, Role.ADMIN})),
    "city_review": (("submitted",), "city_reviewed", frozenset({Role.CITY, Role.ADMIN})),
    "approve": (("city_reviewed",), "approved", frozenset({Role.PROVINCE, Role.ADMIN})),
    "reject": (
        ("submitted", "city_reviewed"),
        "rejected",
        frozenset({Role.CITY, Role.PROVINCE, Role.ADMIN}),
    ),
    "complete": (("approved",), "completed", frozenset({Role.ENTERPRISE, Role.ADMIN})),
}


@dataclass(frozen=True)
class Measure:
    """One measure of a plan: what, at what cost, saving how much a year."""

    name: str
    investment_cny: float
    expected_saving_tce_per_year: float


@dataclass(frozen=True)
class PlanAlert:
    """A plan that slips, as data with a stable code."""

    code: str
    plan_id: int
    unit_code: str
    enterprise_uscc: str
    due_on: date
    detail: str


def create_plan(
    session: Session,
    principal: Principal,
    unit: ProductionUnit,
    *,
    title: str,
    measures: list[Measure],
    responsible: str,
    start_on: date,
    deadline_on: date | None,
    milestones: list[tuple[str, date]],
    province: str | None,
) -> RetrofitPlan:
    """A draft plan for ``unit``; the deadline defaults to the latest the policy allows and
    may not be later."""
    if not title.strip() or not responsible.strip():
        raise InputError("a plan needs a title and the people responsible", field="title")
    if not measures:
        raise InputError("a plan needs at least one measure", field="measures")
    for i, m in enumerate(measures, start=1):
        if m.investment_cny < 0 or m.expected_saving_tce_per_year < 0:
            raise InputError(f"measure {i}: negative investment or saving", field="measures")
    latest_allowed, rule = retrofit_deadline(start_on, province)
    deadline = deadline_on or latest_allowed
    if deadline > latest_allowed or deadline < start_on:
        raise InputError(
            f"deadline {deadline} must lie between {start_on} and {latest_allowed} "
            f"({rule.rule}, {rule.applies_to})",
            field="deadline_on",
        )
    for name, due in milestones:
        if not start_on <= due <= deadline:
            raise InputError(f"milestone {name!r} is due outside the plan", field="milestones")
    plan = RetrofitPlan(
        enterprise_id=unit.enterprise_id,
        unit_id=unit.id,
        title=title.strip(),
        measures=[m.__dict__ for m in measures],
        investment_cny=sum(m.investment_cny for m in measures),
        expected_saving_tce_per_year=sum(m.expected_saving_tce_per_year for m in measures),
        responsible=responsible.strip(),
        start_on=start_on,
        deadline_on=deadline,
        status="draft",
        created_by=principal.subject,
        history=[_event(principal, "create", "", "draft", "")],
        milestones=[PlanMilestone(title=n, due_on=d) for n, d in milestones],
    )
    session.add(plan)
    session.flush()
    return plan


def _event(principal: Principal, action: str, old: str, new: str, note: str) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "by": principal.subject,
        "action": action,
        "from": old,
        "to": new,
        "note": note,
    }


def plans(session: Session, principal: Principal) -> list[RetrofitPlan]:
    """Every plan the principal may see, newest first."""
    return list(
        session.scalars(
            select(RetrofitPlan)
            .where(owned_by_visible_enterprise(RetrofitPlan.enterprise_id, principal))
            .options(selectinload(RetrofitPlan.milestones))
            .order_by(RetrofitPlan.id.desc())
        )
    )


def get_plan(session: Session, principal: Principal, plan_id: int) -> RetrofitPlan:
    """One plan the principal may see, else :class:`NotFoundError`."""
    return visible_row(session, RetrofitPlan, plan_id, principal, "plan")


def act(
    session: Session, principal: Principal, plan_id: int, action: str, note: str = ""
) -> RetrofitPlan:
    """Move a plan along: submit, city_review, approve, reject (with a note) or complete."""
    if action not in TRANSITIONS:
        raise InputError(
            f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}", field="action"
        )
    plan = get_plan(session, principal, plan_id)
    sources, target, roles = TRANSITIONS[action]
    if principal.role not in roles:
        raise PermissionDeniedError(f"role {principal.role.value} may not {action} a plan")
    if plan.status not in sources:
        raise InputError(f"cannot {action} a plan that is {plan.status}", field="status")
    if action == "reject" and not note.strip():
        raise InputError("a rejection needs its reason", field="note")
    plan.history = [*plan.history, _event(principal, action, plan.status, target, note)]
    plan.status = target
    session.flush()
    return plan


def mark_milestone(
    session: Session, principal: Principal, milestone_id: int, done_on: date, note: str = ""
) -> PlanMilestone:
    """Record a milestone as done."""
    milestone = session.get(PlanMilestone, milestone_id)
    if milestone is None:
        raise NotFoundError(f"milestone {milestone_id} not found")
    get_plan(session, principal, milestone.plan_id)  # scope check
    milestone.done_on = done_on
    milestone.note = note or milestone.note
    session.flush()
    return milestone


def slipping(session: Session, principal: Principal, today: date) -> list[PlanAlert]:
    """Alerts: ``programme.plan.milestone_overdue`` (due, not done) and
    ``programme.plan.deadline_passed`` (past the deadline, not completed)."""
    alerts = []
    for plan in plans(session, principal):
        if plan.status in ("completed", "rejected"):
            continue
        head = (plan.id, plan.unit.code, plan.enterprise.uscc)
        for m in plan.milestones:
            if m.done_on is None and m.due_on < today:
                alerts.append(
                    PlanAlert("programme.plan.milestone_overdue", *head, m.due_on, m.title)
                )
        if plan.deadline_on < today:
            alerts.append(
                PlanAlert("programme.plan.deadline_passed", *head, plan.deadline_on, plan.title)
            )
    return alerts


__all__ = [
    "TRANSITIONS",
    "Measure",
    "PlanAlert",
    "act",
    "create_plan",
    "get_plan",
    "mark_milestone",
    "plans",
    "slipping",
]
