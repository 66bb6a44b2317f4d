"""Who sees and who may act on a supervision item: jurisdiction × department.

"谁考核、谁掌握数据": an item belongs to one department (``department``); its results are
shared with every department of the jurisdiction (检查结果共享互认), so every supervisor whose
region contains the item's region sees it, but only the owning department acts on it. An
enterprise user sees the items about its own enterprise (complaints excepted: they would
reveal who complained) and answers them. Objects outside the scope are "not found".
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, select, true
from sqlalchemy.orm import Session

from kilnwatch.domain.identifiers import region_prefix
from kilnwatch.errors import PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import SupervisionItem, User, UserDepartment
from kilnwatch.store.repos.findings import get_finding
from kilnwatch.supervise.catalogue import check_department, lead_department

REGULATOR_ROLES = frozenset({Role.ADMIN, Role.PROVINCE, Role.CITY, Role.COUNTY, Role.INSPECTOR})
"""Roles that act for a department; auditors read only."""


def recorded_department(session: Session, principal: Principal) -> str | None:
    """The department recorded for the principal's user, or None."""
    return session.scalar(
        select(UserDepartment.department)
        .join(User, User.id == UserDepartment.user_id)
        .where(User.username == principal.subject)
    )


def department_of(session: Session, principal: Principal) -> str:
    """The principal's department (the lead department when none was recorded)."""
    return recorded_department(session, principal) or lead_department()


def set_department(session: Session, username: str, department: str) -> None:
    """Record the department of a user (flushes)."""
    check_department(department)
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        from kilnwatch.errors import InputError

        raise InputError(f"unknown user {username!r}", field="username")
    row = session.get(UserDepartment, user_id)
    if row is None:
        session.add(UserDepartment(user_id=user_id, department=department))
    else:
        row.department = department
    session.flush()


def item_scope(principal: Principal) -> ColumnElement[bool]:
    """Condition on :class:`SupervisionItem` rows the principal may see."""
    if principal.sees_everything:
        return true()
    if principal.role is Role.ENTERPRISE:
        if principal.enterprise_id is None:
            return false()
        return and_(
            SupervisionItem.enterprise_id == principal.enterprise_id,
            SupervisionItem.kind != "complaint",
        )
    if not principal.region_code:
        return false()
    return SupervisionItem.region_code.startswith(region_prefix(principal.region_code))


def sees(principal: Principal, item: SupervisionItem) -> bool:
    if principal.sees_everything:
        return True
    if principal.role is Role.ENTERPRISE:
        return item.kind != "complaint" and item.enterprise_id == principal.enterprise_id
    code = principal.region_code
    return bool(code) and item.region_code.startswith(region_prefix(code or ""))


def acts_for_department(principal: Principal, department: str, item: SupervisionItem) -> bool:
    """Whether the principal may take a regulator's action on the item."""
    if principal.sees_everything:
        return True
    return (
        principal.role in REGULATOR_ROLES
        and principal.role is not Role.ADMIN
        and department == item.department
        and sees(principal, item)
    )


def writes_on(session: Session, principal: Principal, item: SupervisionItem) -> bool:
    """Whether the principal may add to the item's record (a comment, evidence): the owning
    department's supervisors (and an administrator), the enterprise the item is about and the
    item's assignee. Other departments read it (shared results) without writing on it;
    auditors read only."""
    if principal.role is Role.AUDITOR:
        return False
    if principal.sees_everything or is_enterprise_of(principal, item):
        return True
    if principal.subject == item.assignee:
        return True
    return acts_for_department(principal, department_of(session, principal), item)


FINDING_SOURCE = "verify.finding"
"""``source_code`` of the rectification opened from a verification finding (its
``source_ref`` is the finding's id)."""


def check_finding_writer(session: Session, principal: Principal, finding_id: int) -> None:
    """Refuse a change of a finding's status or assignee by anybody but a supervisor who may
    handle it: not an enterprise user, not an auditor (they read), and — once a rectification
    was opened from the finding — only the department owning that rectification (or an
    administrator). A finding outside the principal's scope is "not found" first."""
    finding = get_finding(session, principal, finding_id)
    if principal.role in (Role.ENTERPRISE, Role.AUDITOR):
        raise PermissionDeniedError(f"a {principal.role.value} user may not change a finding")
    items = session.scalars(select(SupervisionItem).where(
        SupervisionItem.source_code == FINDING_SOURCE,
        SupervisionItem.source_ref == str(finding.id)))  # fmt: skip
    mine = department_of(session, principal)
    for item in items:
        if not acts_for_department(principal, mine, item):
            raise PermissionDeniedError(
                f"the {item.department} department handles this finding (item #{item.id})"
            )


def is_enterprise_of(principal: Principal, item: SupervisionItem) -> bool:
    return (
        principal.role is Role.ENTERPRISE
        and item.enterprise_id is not None
        and item.enterprise_id == principal.enterprise_id
    )
