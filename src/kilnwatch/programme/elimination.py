"""淘汰: units to be eliminated, each with its reason (a stable code) and deadline.

* ``programme.eliminate.not_retrofitted``: below the baseline and past the retrofit deadline
  (the plan's, else the province's) without a completed plan;
* ``programme.eliminate.below_baseline_after_retrofit``: the plan is completed (or its deadline
  passed) and the unit is still below the baseline;
* ``programme.eliminate.energy_limit_breach``: worse than grade 3 of the GB limit standard
  (the energy standard among the five kinds of standards of low-efficiency exit);
* ``programme.eliminate.obsolete_equipment``: the unit's equipment attributes match an
  obsolete-equipment rule (淘汰类; the reason names the document, the item and each attribute
  value against its threshold; the deadline is the rule's, empty when none is stated);
* ``programme.eliminate.exit_<kind>`` (``safety``, ``environment``, ``technology``,
  ``quality``): a recorded determination in force finds the unit in breach of a standard of
  that kind (who, when, the standard and the evidence in the reason).

References
----------
.. [1] 发改产业〔2021〕1609号 notice (不能按期改造完毕的项目进行淘汰) and 产业结构调整指导目录
   （2024年本）(基准水平以下且未在规定期限内完成改造的项目参照淘汰类管理), as sourced in
   ``reference/programme/policy.csv``.
.. [2] The GB energy-consumption limit standards: grade 3 is the limit for existing plants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from kilnwatch.accounting.units import UnitAccount
from kilnwatch.domain.obsolete import past_deadline
from kilnwatch.identity import Principal
from kilnwatch.programme.catalogue import UnitCatalogue, catalogue_matches
from kilnwatch.programme.determination import effective_class, latest
from kilnwatch.programme.exit_grounds import exit_ground_records, in_force
from kilnwatch.programme.plans import plans
from kilnwatch.reference.programme import policy_rule
from kilnwatch.store.models import RetrofitPlan


@dataclass(frozen=True)
class EliminationItem:
    """A unit on the elimination list, why, and by when."""

    code: str
    unit_id: int
    unit_code: str
    enterprise_uscc: str
    enterprise_name: str
    capacity: float
    capacity_unit: str
    deadline_on: date | None
    reason: str


def elimination_list(
    session: Session,
    principal: Principal,
    accounts: Iterable[UnitAccount],
    period: str,
    today: date,
    province: str | None,
    catalogue: list[UnitCatalogue] | None = None,
) -> list[EliminationItem]:
    """The units to eliminate as of ``today`` from the accounts and determinations of
    ``period``, the obsolete-equipment matches (``catalogue``, computed for the accounts'
    units when not given) and the recorded exit grounds in force."""
    accounts = list(accounts)
    if catalogue is None:
        catalogue = catalogue_matches(session, principal, province, [a.unit_id for a in accounts])
    determined = {d.unit_id: d for d in latest(session, principal, period)}
    plan_of: dict[int, RetrofitPlan] = {}
    for p in plans(session, principal):
        if p.status != "rejected":
            plan_of.setdefault(p.unit_id, p)
    rule = policy_rule("retrofit_deadline", province)
    province_deadline = date.fromisoformat(rule.value) if rule else None
    items = []
    for acc in accounts:
        head = (acc.unit_id, acc.unit_code, acc.enterprise_uscc, acc.enterprise_name,
                acc.capacity, acc.capacity_unit)  # fmt: skip
        if acc.legal_breach:
            items.append(
                EliminationItem(
                    "programme.eliminate.energy_limit_breach",
                    *head,
                    None,
                    f"{acc.intensity:.4g} {acc.intensity_unit} worse than GB grade 3",
                )  # fmt: skip
            )
        d = determined.get(acc.unit_id)
        cls = effective_class(d) if d is not None else acc.class_
        if cls != "below_baseline":
            continue
        plan = plan_of.get(acc.unit_id)
        deadline = plan.deadline_on if plan else province_deadline
        if plan is not None and (plan.status == "completed" or plan.deadline_on < today):
            items.append(
                EliminationItem(
                    "programme.eliminate.below_baseline_after_retrofit",
                    *head,
                    deadline,
                    f"plan {plan.id} ({plan.status}) and still below the baseline in {period}",
                )  # fmt: skip
            )
        elif deadline is not None and deadline < today:
            items.append(
                EliminationItem(
                    "programme.eliminate.not_retrofitted",
                    *head,
                    deadline,
                    "below the baseline, no completed retrofit by the deadline",
                )  # fmt: skip
            )
    return items + _obsolete(catalogue, today) + _recorded(session, principal, accounts)


def _obsolete(catalogue: list[UnitCatalogue], today: date) -> list[EliminationItem]:
    return [
        EliminationItem(
            "programme.eliminate.obsolete_equipment",
            u.unit_id,
            u.unit_code,
            u.enterprise_uscc,
            u.enterprise_name,
            u.capacity,
            u.capacity_unit,
            m.rule.deadline,
            m.reason() + (" — past the deadline" if past_deadline(m.rule, today) else ""),
        )  # fmt: skip
        for u in catalogue
        for m in u.matches
    ]


def _recorded(
    session: Session, principal: Principal, accounts: list[UnitAccount]
) -> list[EliminationItem]:
    by_unit = {a.unit_id: a for a in accounts}
    items = []
    for g in in_force(exit_ground_records(session, principal)):
        acc = by_unit.get(g.unit_id)
        if acc is None or g.finding != "breach":
            continue
        items.append(
            EliminationItem(
                f"programme.eliminate.exit_{g.kind}",
                acc.unit_id,
                acc.unit_code,
                acc.enterprise_uscc,
                acc.enterprise_name,
                acc.capacity,
                acc.capacity_unit,
                g.deadline_on,
                f"{g.standard}: {g.evidence} (determined by {g.determined_by} on"
                f" {g.determined_on.isoformat()})",
            )  # fmt: skip
        )
    return items


__all__ = ["EliminationItem", "elimination_list"]
