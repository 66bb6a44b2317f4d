"""Escalation: an item past its deadline goes to the level above its assignee (a county
supervisor's to the city, a city's to the province) and comes back when the deadline is met or
moved (issue 15, "accountability"). Overdue items are flagged on every read without this; the
sweep records the escalation in the item's history and notifies the level above. Run it daily:
``kilnwatch supervise escalate``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.identity import Role
from kilnwatch.store.models import SupervisionEvent, SupervisionItem, User
from kilnwatch.store.models.base import utcnow
from kilnwatch.supervise import notices
from kilnwatch.supervise.items import overdue_condition

SWEEP_ACTOR = "supervise.escalate"


def level_above(region_code: str) -> str:
    """The division above the one owning an item: county → city, city → province."""
    if region_code.endswith("0000"):
        return region_code
    if region_code.endswith("00"):
        return region_code[:2] + "0000"
    return region_code[:4] + "00"


def supervisors_at(session: Session, region_code: str) -> list[str]:
    stmt = select(User.username).where(
        User.region_code == region_code, User.active,
        User.role.in_([Role.PROVINCE.value, Role.CITY.value, Role.COUNTY.value]),
    )  # fmt: skip
    return list(session.scalars(stmt.order_by(User.username)))


def _record(session: Session, item: SupervisionItem, action: str, level: int) -> None:
    session.add(SupervisionEvent(
        item_id=item.id, action=action, from_status=item.status, to_status=item.status,
        actor=SWEEP_ACTOR, comment="", detail={"escalation_level": level,
        "due_on": item.due_on.isoformat() if item.due_on else None}, at=utcnow(),
    ))  # fmt: skip


def escalate_overdue(session: Session, today: date | None = None) -> tuple[int, int]:
    """Raise every overdue item at level 0 to level 1 (notify the assignee and the level
    above); bring every escalated item that is no longer overdue back to 0. Returns
    (escalated, brought back). Flushes."""
    today = today or utcnow().date()
    overdue = overdue_condition(today)
    up = list(session.scalars(select(SupervisionItem).where(
        overdue, SupervisionItem.escalation_level == 0)))  # fmt: skip
    for item in up:
        item.escalation_level = 1
        _record(session, item, "overdue", 1)
        owner = session.scalar(select(User.region_code).where(User.username == item.assignee))
        above = supervisors_at(session, level_above(owner or item.region_code))
        notices.notify(session, [item.assignee], item, "overdue")
        notices.notify(session, above, item, "escalated", skip=item.assignee)
    down = list(session.scalars(select(SupervisionItem).where(
        ~overdue, SupervisionItem.escalation_level > 0)))  # fmt: skip
    for item in down:
        item.escalation_level = 0
        _record(session, item, "de_escalate", 0)
        notices.notify(session, [item.assignee], item, "de_escalated")
    session.flush()
    return len(up), len(down)
