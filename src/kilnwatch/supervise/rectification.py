"""Rectification (整改): problem → required action with deadline → the enterprise's response
with evidence → verification → closure or escalation (issue 15).

:func:`open_rectification` is the public entry point for every capability that finds a problem
(verification findings, joint inspections, special supervision, the monthly on-site supervision
of 两高 projects, meter operation, retrofit plans): it records the problem once per
``(source_code, source_ref)`` and returns the same item when sent again. docs/supervision.md.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.identity import Principal
from kilnwatch.store.models import SupervisionItem
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.findings import get_finding
from kilnwatch.supervise.access import FINDING_SOURCE, acts_for_department, department_of
from kilnwatch.supervise.catalogue import planning
from kilnwatch.supervise.items import NewItem, create_item, enterprise_region, get_item

KIND = "rectification"


def open_rectification(
    session: Session,
    *,
    enterprise_id: int,
    source_code: str,
    source_ref: str,
    title: str,
    due_date: date,
    required_action: str = "",
    department: str | None = None,
    assignee: str | None = None,
    actor: str = "system",
    parent_id: int | None = None,
) -> SupervisionItem:
    """Open a rectification of an enterprise, or return the one already open for the same
    source.

    Parameters
    ----------
    enterprise_id : int
        The enterprise that must rectify.
    source_code : str
        Where the problem was found, a code of ``reference/supervise/sources.csv``
        (``verify.finding``, ``inspection.visit``, ``projects.onsite``, …).
    source_ref : str
        The problem's identifier in its source (a finding id, ``<project>/<month>/<item>``, …);
        with ``source_code`` it makes the item unique.
    title : str
        The problem in a line.
    due_date : date
        Deadline of the required action (local date).
    required_action : str
        What the enterprise must do.
    department : str, optional
        Owning department (``reference/supervise/departments.csv``); the lead department when
        not given.
    assignee : str, optional
        The supervisor in charge; by default a user of the enterprise's county, city or
        province (:func:`kilnwatch.supervise.items.default_assignee`).
    actor : str
        Who opens it (a username, or the capability's name for batch work).

    Flushes, never commits: the caller's transaction decides.
    """
    if not source_ref.strip():
        raise InputError("a source reference is required", field="source_ref")
    new = NewItem(
        kind=KIND, title=title, source_code=source_code, source_ref=source_ref.strip(),
        region_code=enterprise_region(session, enterprise_id), body=required_action,
        enterprise_id=enterprise_id, department=department, due_on=due_date,
        assignee=assignee, parent_id=parent_id,
    )  # fmt: skip
    item, _ = create_item(session, new, actor=actor)
    return item


def default_due_date(today: date | None = None) -> date:
    """Today plus the default rectification period (``planning.csv``: rectification_days)."""
    return (today or utcnow().date()) + timedelta(days=int(planning("rectification_days")))


def rectify_finding(
    session: Session,
    principal: Principal,
    finding_id: int,
    *,
    due_date: date | None = None,
    required_action: str = "",
    assignee: str | None = None,
) -> SupervisionItem:
    """Open the rectification of a verification finding the principal may see (source
    ``verify.finding``); the finding is referenced, not copied."""
    finding = get_finding(session, principal, finding_id)
    return open_rectification(
        session, enterprise_id=finding.enterprise_id, source_code=FINDING_SOURCE,
        source_ref=str(finding.id), title=f"{finding.rule_code} · {finding.period}",
        due_date=due_date or default_due_date(), required_action=required_action
        or finding.message, department=department_of(session, principal), assignee=assignee,
        actor=principal.subject,
    )  # fmt: skip


def open_for(
    session: Session,
    principal: Principal,
    parent_id: int,
    *,
    title: str,
    due_date: date,
    required_action: str,
) -> SupervisionItem:
    """A rectification required by another item (a special supervision's outcome, a
    complaint): source is the parent's kind, the reference its id."""
    parent = get_item(session, principal, parent_id)
    if not acts_for_department(principal, department_of(session, principal), parent):
        raise PermissionDeniedError(f"only the {parent.department} department opens what this "
                                    "item requires")  # fmt: skip
    if parent.enterprise_id is None:
        raise InputError("the item names no enterprise to rectify", field="parent_id")
    source = "special" if parent.kind == "special" else parent.kind
    return open_rectification(
        session, enterprise_id=parent.enterprise_id, source_code=source,
        source_ref=f"{parent.id}:{title.strip()[:80]}", title=title, due_date=due_date,
        required_action=required_action, department=parent.department, actor=principal.subject,
        parent_id=parent.id,
    )  # fmt: skip
