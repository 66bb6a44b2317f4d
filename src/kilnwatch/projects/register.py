"""The project register: each project's stage, approvals, capacity replacement and coal
substitution ledgers, and stage advances checked against :func:`~kilnwatch.domain.projects.
stage_blockers` (the refusals are stored with their reasons).

The policy ratio of a ledger comes from ``reference/projects`` for the project's kind of
capacity and the region class of its enterprise (key region or not); the project's own
``replacement_ratio`` (set by its approval document) is used only where the table has none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kilnwatch.domain.projects import (
    Blocker,
    Ledger,
    LedgerEntry,
    ProjectFacts,
    ledger,
    normal_stage,
    stage_blockers,
)
from kilnwatch.errors import InputError, NotFoundError, PermissionDeniedError
from kilnwatch.identity import Principal
from kilnwatch.reference.projects import (
    load_coal_substitution_ratios,
    load_replacement_ratios,
    region_class_of,
)
from kilnwatch.store.models import (
    CapacityReplacement,
    CoalSubstitution,
    Enterprise,
    Project,
    ProjectApproval,
    ProjectStageEvent,
)
from kilnwatch.store.repos.scope import owned_by_visible_enterprise


@dataclass
class ProjectStatus:
    """A project as the register shows it: stage, approvals, both ledgers and what blocks the
    next stage."""

    project: Project
    region_class: str
    approvals: dict[str, str]
    replacement: Ledger | None
    coal: Ledger | None
    next_stage: str | None
    blockers: list[Blocker] = field(default_factory=list)
    """Why the project may not enter ``next_stage``."""


NEXT = {"planned": "approved", "approved": "under_construction",
        "under_construction": "trial_operation", "trial_operation": "operating"}  # fmt: skip


def _replacement(p: Project, region_class: str, rows: list[CapacityReplacement]) -> Ledger | None:
    if not p.replacement_kind or not p.capacity:
        return None
    policy = load_replacement_ratios().get((p.replacement_kind, region_class))
    if policy is None:
        raise InputError(
            f"unknown replacement kind {p.replacement_kind!r}", field="replacement_kind"
        )
    ratio = policy.ratio if policy.ratio is not None else p.replacement_ratio
    entries = [LedgerEntry(r.capacity, r.capacity_unit, r.retired_on is not None) for r in rows]
    return ledger(p.capacity, p.capacity_unit or "", ratio, entries, prohibited=policy.prohibited)


def _coal(p: Project, region_class: str, rows: list[CoalSubstitution]) -> Ledger | None:
    if not p.coal_t_per_year:
        return None
    ratio = load_coal_substitution_ratios()[region_class].ratio
    entries = [LedgerEntry(r.coal_t_per_year, "t/a", r.achieved_on is not None) for r in rows]
    return ledger(p.coal_t_per_year, "t/a", ratio, entries)


def _status(session: Session, projects: list[Project]) -> list[ProjectStatus]:
    ids = [p.id for p in projects]
    approvals: dict[int, dict[str, str]] = defaultdict(dict)
    for a in session.scalars(select(ProjectApproval).where(ProjectApproval.project_id.in_(ids))):
        approvals[a.project_id][a.kind] = a.status
    repl: dict[int, list[CapacityReplacement]] = defaultdict(list)
    for r in session.scalars(
        select(CapacityReplacement).where(CapacityReplacement.project_id.in_(ids))
    ):
        repl[r.project_id].append(r)
    coal: dict[int, list[CoalSubstitution]] = defaultdict(list)
    for c in session.scalars(select(CoalSubstitution).where(CoalSubstitution.project_id.in_(ids))):
        coal[c.project_id].append(c)
    out = []
    for p in projects:
        rc = region_class_of(p.enterprise.region_code)
        st = ProjectStatus(p, rc, approvals[p.id], _replacement(p, rc, repl[p.id]),
                           _coal(p, rc, coal[p.id]), NEXT.get(normal_stage(p.stage)))  # fmt: skip
        if st.next_stage:
            st.blockers = stage_blockers(_facts(st), st.next_stage)
        out.append(st)
    return out


def _facts(st: ProjectStatus) -> ProjectFacts:
    return ProjectFacts(st.project.stage, st.approvals, st.replacement, st.coal)


def _query(principal: Principal):  # type: ignore[no-untyped-def]
    return (
        select(Project)
        .join(Enterprise, Enterprise.id == Project.enterprise_id)
        .where(owned_by_visible_enterprise(Project.enterprise_id, principal))
        .options(selectinload(Project.enterprise))
    )


def list_projects(
    session: Session, principal: Principal, *, stage: str | None = None, city: str | None = None
) -> list[ProjectStatus]:
    """The projects the principal may see, with their ledgers and blockers."""
    stmt = _query(principal)
    if stage:
        try:
            stmt = stmt.where(Project.stage == normal_stage(stage))
        except ValueError as exc:
            raise InputError(str(exc), field="stage") from None
    if city:
        stmt = stmt.where(Enterprise.region_code.startswith(city[:4]))
    projects = list(session.scalars(stmt.order_by(Enterprise.region_code, Project.id)))
    return _status(session, projects)


def project_status(session: Session, principal: Principal, project_id: int) -> ProjectStatus:
    """One project (not found outside the principal's jurisdiction)."""
    p = session.scalar(_query(principal).where(Project.id == project_id))
    if p is None:
        raise NotFoundError(f"project {project_id} not found")
    return _status(session, [p])[0]


def advance_stage(
    session: Session, principal: Principal, project_id: int, target: str, *,
    now: datetime | None = None,
) -> tuple[ProjectStatus, list[Blocker]]:  # fmt: skip
    """Move a project to ``target`` when the rules allow it; a refusal is stored too.

    Returns the project's status after the request and the blockers (empty: moved).
    """
    if not principal.may_write_registry:
        raise PermissionDeniedError(f"a {principal.role.value} user may not change projects")
    try:
        target = normal_stage(target)
    except ValueError as exc:
        raise InputError(str(exc), field="stage") from None
    st = project_status(session, principal, project_id)
    blockers = stage_blockers(_facts(st), target)
    p = st.project
    session.add(
        ProjectStageEvent(
            project_id=p.id, from_stage=p.stage, to_stage=target, granted=not blockers,
            blockers=[{"code": b.code, "message": b.message, "evidence": dict(b.evidence)}
                      for b in blockers],
            actor=principal.subject, at=now or datetime.now(UTC),
        )
    )  # fmt: skip
    if not blockers:
        p.stage, p.stage_changed_at = target, now or datetime.now(UTC)
    session.flush()
    return (project_status(session, principal, project_id) if not blockers else st), blockers


def stage_events(
    session: Session, principal: Principal, project_id: int
) -> list[ProjectStageEvent]:
    """A project's stage requests, newest first."""
    project_status(session, principal, project_id)  # scope check
    return list(
        session.scalars(
            select(ProjectStageEvent)
            .where(ProjectStageEvent.project_id == project_id)
            .order_by(ProjectStageEvent.at.desc(), ProjectStageEvent.id.desc())
        )
    )


__all__ = [
    "ProjectStatus",
    "advance_stage",
    "list_projects",
    "project_status",
    "stage_events",
]
