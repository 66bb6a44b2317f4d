"""Penalties (处罚): deductions of an enterprise's and its city's output, energy or coal quota,
with the legal basis and the problem they come from; and quota balances per period.

A penalty is a supervision item (``proposed`` → ``decided``, or ``withdrawn``; a decision may be
``revoked``). Its deductions (``quota_deductions``) count against the balances only while the
penalty is ``decided``. A balance is the period's allocation (``quota_allocations``) minus the
decided deductions, for a city and for each of its enterprises.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.identifiers import region_prefix
from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import (
    Enterprise,
    QuotaAllocation,
    QuotaDeduction,
    Region,
    SupervisionItem,
)
from kilnwatch.store.repos.findings import get_finding
from kilnwatch.store.repos.registry import get_enterprise
from kilnwatch.supervise.access import REGULATOR_ROLES, department_of
from kilnwatch.supervise.catalogue import check_quota
from kilnwatch.supervise.items import NewItem, city_of, create_item, get_item

KIND = "penalty"


@dataclass(frozen=True)
class Deduction:
    """What a penalty takes: ``amount`` of ``quota`` from the enterprise and ``city_amount``
    from its city (the same amount when not given), in the period's quota (a year: ``2025``)."""

    quota: str
    amount: float
    period: str
    city_amount: float | None = None


def _check_amount(value: float, field: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise InputError("a positive amount", field=field)
    return value


def propose_penalty(
    session: Session,
    principal: Principal,
    *,
    enterprise_id: int,
    deduction: Deduction,
    legal_basis: str,
    grounds: str,
    source_item_id: int | None = None,
    finding_id: int | None = None,
    due_on: date | None = None,
) -> SupervisionItem:
    """Propose a penalty on an enterprise in the principal's scope, from the item or finding it
    comes from (one penalty per source and quota)."""
    if principal.role not in REGULATOR_ROLES:
        raise PermissionDeniedError("only a supervisor proposes a penalty")
    enterprise = get_enterprise(session, principal, enterprise_id)
    quota = check_quota(deduction.quota)
    amount = _check_amount(deduction.amount, "amount")
    city_amount = _check_amount(
        deduction.city_amount if deduction.city_amount is not None else amount, "city_amount"
    )
    if not deduction.period.strip():
        raise InputError("the quota period is required (e.g. 2025)", field="period")
    basis = legal_basis.strip()
    if len(basis) < 2:
        raise InputError("the legal basis is required", field="legal_basis")
    if source_item_id is not None:
        source = get_item(session, principal, source_item_id)
        if source.enterprise_id != enterprise.id:
            raise InputError("the source item is about another enterprise", field="source_item_id")
        code, ref, parent = source.kind, f"{source.id}:{quota.code}", source.id
    elif finding_id is not None:
        finding = get_finding(session, principal, finding_id)
        if finding.enterprise_id != enterprise.id:
            raise InputError("the finding is about another enterprise", field="finding_id")
        code, ref, parent = "verify.finding", f"{finding.id}:{quota.code}", None
    else:
        raise InputError("name the problem the penalty comes from", field="source_item_id")
    title = f"{quota.name_zh} −{amount:g} {quota.unit} · {enterprise.name}"
    new = NewItem(
        kind=KIND, title=title, source_code=code, source_ref=f"penalty:{ref}",
        region_code=enterprise.region_code, body=grounds, enterprise_id=enterprise.id,
        department=department_of(session, principal), due_on=due_on, parent_id=parent,
    )  # fmt: skip
    item, created = create_item(session, new, actor=principal.subject, legal_basis=basis[:300])
    if created:
        city = city_of(enterprise.region_code)
        session.add_all([
            QuotaDeduction(item_id=item.id, enterprise_id=enterprise.id, region_code=city,
                           period=deduction.period, quota=quota.code, amount=amount,
                           unit=quota.unit),
            QuotaDeduction(item_id=item.id, enterprise_id=None, region_code=city,
                           period=deduction.period, quota=quota.code, amount=city_amount,
                           unit=quota.unit),
        ])  # fmt: skip
        session.flush()
    return item


def deductions_of(session: Session, item_id: int) -> list[QuotaDeduction]:
    stmt = select(QuotaDeduction).where(QuotaDeduction.item_id == item_id)
    return list(session.scalars(stmt.order_by(QuotaDeduction.id)))


def set_allocation(
    session: Session,
    principal: Principal,
    *,
    region_code: str,
    enterprise_uscc: str | None,
    period: str,
    quota: str,
    amount: float,
    source: str = "",
) -> QuotaAllocation:
    """Set a period's quota of a city (or of one of its enterprises). Province users and admins
    only: quotas are allocated from above."""
    if not (principal.sees_everything or principal.role is Role.PROVINCE):
        raise PermissionDeniedError("only the province allocates quotas")
    q = check_quota(quota)
    if session.get(Region, region_code) is None:
        raise InputError(f"unknown region {region_code}", field="region_code")
    enterprise_id = None
    if enterprise_uscc:
        e = session.scalar(select(Enterprise).where(Enterprise.uscc == enterprise_uscc.upper()))
        if e is None:
            raise InputError(f"unknown enterprise {enterprise_uscc}", field="enterprise_uscc")
        if city_of(e.region_code) != region_code:
            raise InputError(f"{e.uscc} is not in {region_code}", field="region_code")
        enterprise_id = e.id
    if not math.isfinite(amount) or amount < 0:
        raise InputError("a non-negative amount", field="amount")
    row = session.scalar(select(QuotaAllocation).where(
        QuotaAllocation.region_code == region_code, QuotaAllocation.period == period,
        QuotaAllocation.quota == q.code, QuotaAllocation.enterprise_id.is_(None)
        if enterprise_id is None else QuotaAllocation.enterprise_id == enterprise_id))  # fmt: skip
    if row is None:
        row = QuotaAllocation(
            region_code=region_code, enterprise_id=enterprise_id, period=period, quota=q.code,
            amount=amount, unit=q.unit, source=source[:300],
        )  # fmt: skip
        session.add(row)
    else:
        row.amount, row.source = amount, source[:300]
    session.flush()
    return row


@dataclass
class Balance:
    region_code: str
    enterprise_id: int | None
    enterprise_uscc: str | None
    period: str
    quota: str
    unit: str
    allocated: float | None = None
    deducted: float = 0.0

    @property
    def balance(self) -> float | None:
        return None if self.allocated is None else self.allocated - self.deducted


def balances(session: Session, principal: Principal, period: str) -> list[Balance]:
    """Quota balances of the cities and enterprises in the principal's scope for ``period``:
    allocation minus decided deductions (an enterprise user sees its own)."""
    found: dict[tuple[str, int | None, str], Balance] = {}

    def visible(region: str, enterprise_id: int | None) -> bool:
        if principal.sees_everything:
            return True
        if principal.role is Role.ENTERPRISE:
            return enterprise_id is not None and enterprise_id == principal.enterprise_id
        return region.startswith(region_prefix(principal.region_code or "--")) or (
            principal.region_code or "").startswith(region_prefix(region))  # fmt: skip

    def slot(region: str, enterprise_id: int | None, quota: str, unit: str) -> Balance:
        key = (region, enterprise_id, quota)
        if key not in found:
            found[key] = Balance(region, enterprise_id, None, period, quota, unit)
        return found[key]

    for a in session.scalars(select(QuotaAllocation).where(QuotaAllocation.period == period)):
        if visible(a.region_code, a.enterprise_id):
            slot(a.region_code, a.enterprise_id, a.quota, a.unit).allocated = a.amount
    decided = (
        select(QuotaDeduction)
        .join(SupervisionItem, SupervisionItem.id == QuotaDeduction.item_id)
        .where(QuotaDeduction.period == period, SupervisionItem.status == "decided")
    )
    for d in session.scalars(decided):
        if visible(d.region_code, d.enterprise_id):
            slot(d.region_code, d.enterprise_id, d.quota, d.unit).deducted += d.amount
    ids = {b.enterprise_id for b in found.values() if b.enterprise_id}
    names: dict[int, str] = defaultdict(str)
    if ids:
        for i, u in session.execute(
            select(Enterprise.id, Enterprise.uscc).where(Enterprise.id.in_(ids))
        ):
            names[int(i)] = str(u)
    for b in found.values():
        if b.enterprise_id:
            b.enterprise_uscc = names[b.enterprise_id]
    return sorted(found.values(), key=lambda b: (b.region_code, b.enterprise_uscc or "", b.quota))
