"""The state machines of the supervision workflows: the only transitions there are.

Each kind of item (rectification, special supervision, penalty, complaint) has a table of
:class:`Transition` rows: the action, the states it may start from, the state it leads to, who
may take it (``enterprise``: the enterprise the item is about; ``regulator``: a supervisor of
the owning department within jurisdiction) and what it needs besides a reason. Anything not in
the table is refused with ``supervise.transition.not_allowed`` (docs/supervision.md draws them).

Actions that leave the state alone (comment, acknowledge, assign, attach evidence) are open to
whoever may see the item, except ``assign`` (regulators).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Actor = Literal["enterprise", "regulator"]
Need = Literal["response", "due_on", "team"]


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    actor: Actor
    needs: tuple[Need, ...] = ()


def _t(action: str, sources: str, target: str, actor: Actor, *needs: Need) -> Transition:
    return Transition(action, frozenset(sources.split()), target, actor, needs)


WORKFLOWS: Mapping[str, tuple[Transition, ...]] = {
    # problem -> required action with deadline -> response with evidence -> verification ->
    # closure or escalation (issue 15)
    "rectification": (
        _t("respond", "open", "responded", "enterprise", "response"),
        _t("accept", "responded", "closed", "regulator"),
        _t("reject", "responded", "open", "regulator", "due_on"),
        _t("escalate", "open responded", "escalated", "regulator"),
        _t("withdraw", "open", "withdrawn", "regulator"),
    ),
    "special": (
        _t("start", "opened", "in_progress", "regulator", "team"),
        _t("conclude", "in_progress", "concluded", "regulator", "response"),
        _t("withdraw", "opened", "withdrawn", "regulator"),
    ),
    "penalty": (
        _t("decide", "proposed", "decided", "regulator"),
        _t("withdraw", "proposed", "withdrawn", "regulator"),
        _t("revoke", "decided", "revoked", "regulator"),
    ),
    "complaint": (
        _t("triage", "received", "triaged", "regulator"),
        _t("reject", "received", "rejected", "regulator", "response"),
        _t("investigate", "triaged", "investigating", "regulator"),
        _t("reply", "triaged investigating", "replied", "regulator", "response"),
        _t("close", "replied", "closed", "regulator"),
    ),
}

INITIAL: Mapping[str, str] = {
    "rectification": "open",
    "special": "opened",
    "penalty": "proposed",
    "complaint": "received",
}
KINDS = tuple(WORKFLOWS)
DEADLINE_STATES: Mapping[str, frozenset[str]] = {
    "rectification": frozenset({"open"}),
    "special": frozenset({"opened", "in_progress"}),
    "penalty": frozenset({"proposed"}),
    "complaint": frozenset({"received", "triaged", "investigating"}),
}
"""States in which the item's deadline runs: past it, the item is overdue. A rectification's
deadline is met when the enterprise responds (its verification is the regulator's)."""
NOTE_ACTIONS = ("comment", "acknowledge", "assign", "attach")
"""Actions recorded in the history that do not change the state."""


def states_of(kind: str) -> tuple[str, ...]:
    seen = [INITIAL[kind]]
    for t in WORKFLOWS[kind]:
        for s in sorted(t.sources) + [t.target]:
            if s not in seen:
                seen.append(s)
    return tuple(seen)


def pending_states(kind: str) -> frozenset[str]:
    """States in which somebody still owes an action (a deadline can pass in them)."""
    return frozenset(s for t in WORKFLOWS[kind] for s in t.sources)


def deadline_states(kind: str) -> frozenset[str]:
    return DEADLINE_STATES[kind]


def final_states(kind: str) -> frozenset[str]:
    return frozenset(states_of(kind)) - pending_states(kind)


def transition_for(kind: str, status: str, action: str) -> Transition | None:
    """The documented transition of ``action`` from ``status``, or None."""
    for t in WORKFLOWS.get(kind, ()):
        if t.action == action and status in t.sources:
            return t
    return None


def actions_from(kind: str, status: str, actor: Actor | None = None) -> list[str]:
    """The actions possible from ``status`` (for ``actor`` when given), in table order."""
    return [
        t.action
        for t in WORKFLOWS.get(kind, ())
        if status in t.sources and (actor is None or t.actor == actor)
    ]
