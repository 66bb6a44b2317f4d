"""Escalation: an item past its deadline goes to the level above its assignee (a county
supervisor's to the city, a city's to the province), one level further every
``escalation_step_days`` it stays overdue (county → city → province), and comes back when the
deadline is met or moved (issue 15, "accountability"). Overdue items are flagged on every read
without this; the sweep records each level in the item's history and notifies that level's
supervisors. Run it daily: ``kilnwatch supervise escalate``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.identity import Role
from kilnwatch.store.models import SupervisionEvent, SupervisionItem, User
from kilnwatch.store.models.base import utcnow
from kilnwatch.supervise import notices
from kilnwatch.supervise.catalogue import planning
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


def chain(region_code: str) -> list[str]:
    """The divisions above ``region_code``, nearest first, up to the province."""
    out, current = [], region_code
    while (above := level_above(current)) != current:
        out.append(above)
        current = above
    return out


def wanted_level(days_overdue: int, levels: int, step_days: int) -> int:
    """The escalation level of an item ``days_overdue`` days past its deadline (≥ 1): level 1
    on the first day, one more every ``step_days``, at most ``levels`` (the divisions above the
    assignee)."""
    return min(levels, 1 + (days_overdue - 1) // step_days) if levels else 0


def escalate_overdue(session: Session, today: date | None = None) -> tuple[int, int]:
    """Raise every overdue item to the level its lateness calls for (first the division above
    its assignee, then the one above that every ``escalation_step_days``: county → city →
    province) and notify that level; bring every escalated item that is no longer overdue back
    to 0. Returns (items raised, brought back). Flushes."""
    today = today or utcnow().date()
    step = int(planning("escalation_step_days"))
    overdue = overdue_condition(today)
    raised = 0
    for item in session.scalars(select(SupervisionItem).where(overdue)).all():
        owner = session.scalar(select(User.region_code).where(User.username == item.assignee))
        above = chain(owner or item.region_code) or [item.region_code]
        late = (today - item.due_on).days if item.due_on else 1
        target = max(1, wanted_level(late, len(above), step))
        if target <= item.escalation_level:
            continue
        if item.escalation_level == 0:
            notices.notify(session, [item.assignee], item, "overdue")
        for level in range(item.escalation_level + 1, target + 1):
            _record(session, item, "overdue", level)
            notices.notify(session, supervisors_at(session, above[level - 1]), item,
                           "escalated", skip=item.assignee)  # fmt: skip
        item.escalation_level = target
        raised += 1
    down = list(session.scalars(select(SupervisionItem).where(
        ~overdue, SupervisionItem.escalation_level > 0)))  # fmt: skip
    for item in down:
        item.escalation_level = 0
        _record(session, item, "de_escalate", 0)
        notices.notify(session, [item.assignee], item, "de_escalated")
    session.flush()
    return raised, len(down)
