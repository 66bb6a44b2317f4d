"""State machines: every (state, action) pair outside the documented transitions is refused,
every documented one works, and each is reserved to the actor it names."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.store.models import SupervisionEvent, SupervisionItem
from kilnwatch.supervise import items as svc
from kilnwatch.supervise.workflows import (
    KINDS,
    NOTE_ACTIONS,
    WORKFLOWS,
    pending_states,
    states_of,
    transition_for,
)

sys.path.insert(0, str(Path(__file__).parent))
from _factory import build, principal  # noqa: E402

ALL_ACTIONS = sorted({t.action for ts in WORKFLOWS.values() for t in ts} | {"fly", "close"})
LATER = date.today() + timedelta(days=40)


def _item(session: Session, kind: str, status: str, enterprise_id: int) -> SupervisionItem:
    new = svc.NewItem(kind=kind, title="t", source_code="manual", region_code="370102",
                      enterprise_id=enterprise_id, due_on=LATER)  # fmt: skip
    item, _ = svc.create_item(session, new, actor="admin")
    item.status = status
    session.flush()
    return item


@pytest.mark.parametrize("kind", KINDS)
def test_only_documented_transitions(session: Session, kind: str) -> None:
    world = build(session)
    admin = principal("admin", world)
    allowed = 0
    for status in states_of(kind):
        for action in ALL_ACTIONS:
            item = _item(session, kind, status, world.jinan_id)
            rule = transition_for(kind, status, action)
            kwargs = {"response": "answer", "due_on": LATER, "team": ["jinan"]}
            if rule is None:
                with pytest.raises(InputError) as err:
                    svc.transition(session, admin, item.id, action, "reason", **kwargs)  # type: ignore[arg-type]
                assert err.value.code == "supervise.transition.not_allowed"
                assert session.get(SupervisionItem, item.id).status == status  # type: ignore[union-attr]
            else:
                moved = svc.transition(session, admin, item.id, action, "reason", **kwargs)  # type: ignore[arg-type]
                assert moved.status == rule.target
                allowed += 1
    assert allowed == sum(len(t.sources) for t in WORKFLOWS[kind])
    assert not set(NOTE_ACTIONS) & {t.action for t in WORKFLOWS[kind]}


def test_actors_and_reasons(session: Session) -> None:
    world = build(session)
    item = _item(session, "rectification", "open", world.jinan_id)
    with pytest.raises(PermissionDeniedError):  # a regulator does not answer for the enterprise
        svc.transition(session, principal("jinan", world), item.id, "respond", "x1", response="r")
    with pytest.raises(PermissionDeniedError):  # another department does not act
        svc.transition(session, principal("jinan_stats", world), item.id, "escalate", "late")
    with pytest.raises(InputError) as err:  # no reason, no change
        svc.transition(session, principal("qiye", world), item.id, "respond", " ", response="r")
    assert err.value.location.field == "comment"
    with pytest.raises(InputError) as err:
        svc.transition(session, principal("qiye", world), item.id, "respond", "done")
    assert err.value.location.field == "response"
    svc.transition(session, principal("qiye", world), item.id, "respond", "done", response="ok")
    with pytest.raises(PermissionDeniedError):  # the enterprise does not verify itself
        svc.transition(session, principal("qiye", world), item.id, "accept", "fine")
    with pytest.raises(InputError):  # a rejection needs a new deadline
        svc.transition(session, principal("jinan", world), item.id, "reject", "weak")
    svc.transition(session, principal("jinan", world), item.id, "reject", "weak", due_on=LATER)
    assert item.status == "open" and item.status in pending_states("rectification")
    actions = [e.action for e in session.query(SupervisionEvent).filter_by(item_id=item.id)]
    assert actions == ["create", "respond", "reject"]
