"""The half-yearly joint inspection round (联合检查): which group visits which enterprise, when.

Shandong's plan: a number of joint groups (five by default) inspect the "两高" enterprises every
half year, with no duplicate or cross inspections. The planner keeps three constraints and says
which it could not keep:

1. **No enterprise twice in a round** (also a unique key of ``inspection_visits``).
2. **No group in its own home city**: a group is staffed from one city and never inspects there.
3. **Load balanced**: a visit's load is ``visit_base_load + unit_load × production units``
   (``reference/supervise/planning.csv``; policy defaults, confidence low); every group's load
   lies within ``tolerance_fraction`` of the mean, or planning fails with the figures.

Travel is kept short by giving a city's enterprises to as few groups as the balance allows
(largest cities first, each enterprise to the group already travelling there when it fits under
the target, else to the least-loaded eligible group), then a local search moves or swaps visits
between the most and least loaded groups until the loads are within tolerance.

Enterprises already visited by another round within the window, and enterprises not operating,
are left out with their reason (a special supervision may still visit them: it is not a round).
Visits are dated on working days (Monday to Friday) from the window's start, a group's visits in
one city on consecutive days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from kilnwatch.errors import InputError

MAX_SEARCH_STEPS = 10_000


@dataclass(frozen=True)
class Candidate:
    """An enterprise that may be visited: its city (GB/T 2260 ``XXXX00``) and load [-]."""

    enterprise_id: int
    uscc: str
    name: str
    city: str
    load: float


@dataclass
class GroupPlan:
    number: int
    home_city: str
    visits: list[Candidate] = field(default_factory=list)

    @property
    def load(self) -> float:
        return sum(c.load for c in self.visits)

    @property
    def cities(self) -> set[str]:
        return {c.city for c in self.visits}


@dataclass(frozen=True)
class PlannedVisit:
    group: int
    group_home_city: str
    candidate: Candidate
    planned_on: date


@dataclass
class RoundPlan:
    groups: list[GroupPlan]
    visits: list[PlannedVisit]
    mean_load: float
    max_deviation_fraction: float
    """Largest ``|group load − mean| / mean`` [-]."""


def choose_home_cities(
    candidates: Sequence[Candidate], groups: int, cities: Sequence[str]
) -> list[str]:
    """Default home cities: the ``groups`` cities with the most enterprises (ties by code), so
    the cities with most work are inspected by others."""
    count: dict[str, int] = defaultdict(int)
    for c in candidates:
        count[c.city] += 1
    ranked = sorted(cities, key=lambda code: (-count.get(code, 0), code))
    if len(ranked) < groups:
        raise InputError(f"{groups} groups need {groups} home cities; {len(ranked)} known",
                         field="groups")  # fmt: skip
    return ranked[:groups]


def assign(
    candidates: Sequence[Candidate], homes: Sequence[str], tolerance: float
) -> list[GroupPlan]:
    """Groups with their visits, every constraint kept, or an :class:`InputError` saying which
    cannot be."""
    if len(set(homes)) != len(homes):
        raise InputError("two groups share a home city", field="homes")
    if len({c.enterprise_id for c in candidates}) != len(candidates):
        raise InputError("an enterprise is listed twice", field="enterprises")
    groups = [GroupPlan(i + 1, home) for i, home in enumerate(homes)]
    if not candidates:
        return groups
    if len(groups) < 2 and any(c.city == homes[0] for c in candidates):
        raise InputError("one group cannot inspect its own home city; add a group", field="groups")
    target = sum(c.load for c in candidates) / len(groups)
    by_city: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_city[c.city].append(c)
    order = sorted(by_city, key=lambda code: (-sum(c.load for c in by_city[code]), code))
    for city in order:
        eligible = [g for g in groups if g.home_city != city]
        for c in sorted(by_city[city], key=lambda c: (-c.load, c.uscc)):
            there = [g for g in eligible if city in g.cities and g.load + c.load <= target]
            chosen = min(there or eligible, key=lambda g: (g.load, g.number))
            chosen.visits.append(c)
    _balance(groups, tolerance)
    return groups


def deviation(groups: Sequence[GroupPlan]) -> float:
    mean = sum(g.load for g in groups) / len(groups)
    return max(abs(g.load - mean) for g in groups) / mean if mean else 0.0


def _balance(groups: list[GroupPlan], tolerance: float) -> None:
    """Move or swap visits from the heaviest to the lightest groups while it lowers the spread."""
    for _ in range(MAX_SEARCH_STEPS):
        if deviation(groups) <= tolerance:
            return
        if not _improve(groups):
            break
    if deviation(groups) > tolerance:
        loads = ", ".join(f"group {g.number}: {g.load:g}" for g in groups)
        raise InputError(
            f"cannot balance the groups within {tolerance:.0%} of the mean ({loads}); "
            "allow a larger tolerance or change the number of groups", field="tolerance",
        )  # fmt: skip


def _spread(groups: Sequence[GroupPlan]) -> float:
    loads = [g.load for g in groups]
    return max(loads) - min(loads)


def _improve(groups: list[GroupPlan]) -> bool:
    """One move or swap that lowers the spread between the heaviest and the lightest group."""
    before = _spread(groups)
    for heavy in sorted(groups, key=lambda g: -g.load):
        for light in sorted(groups, key=lambda g: g.load):
            if heavy is light or heavy.load <= light.load:
                continue
            gap = heavy.load - light.load
            # a single move: the visit closest to half the gap that the light group may take
            movable = [c for c in heavy.visits if c.city != light.home_city and c.load < gap]
            for c in sorted(movable, key=lambda c: (abs(c.load - gap / 2), c.uscc)):
                if _trade(groups, before, heavy, light, [c], []):
                    return True
            # a swap of a heavier visit for a lighter one
            for a in sorted(heavy.visits, key=lambda c: c.uscc):
                if a.city == light.home_city:
                    continue
                for b in light.visits:
                    if b.city == heavy.home_city or not 0 < a.load - b.load < gap:
                        continue
                    if _trade(groups, before, heavy, light, [a], [b]):
                        return True
    return False


def _trade(
    groups: list[GroupPlan],
    before: float,
    heavy: GroupPlan,
    light: GroupPlan,
    give: list[Candidate],
    take: list[Candidate],
) -> bool:
    """Move ``give`` from ``heavy`` to ``light`` and ``take`` back; keep the trade when it
    lowers the spread below ``before``, else undo it (True when kept)."""
    _exchange(heavy, light, give, take)
    if _spread(groups) < before:
        return True
    _exchange(heavy, light, take, give)
    return False


def _exchange(
    heavy: GroupPlan, light: GroupPlan, give: list[Candidate], take: list[Candidate]
) -> None:
    for visit in give:
        heavy.visits.remove(visit)
    for visit in take:
        light.visits.remove(visit)
    heavy.visits.extend(take)
    light.visits.extend(give)


def working_days(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def schedule(
    groups: Sequence[GroupPlan], first: date, last: date, visits_per_day: int
) -> list[PlannedVisit]:
    """Date each group's visits on working days, a city's visits together (fewest trips)."""
    days = working_days(first, last)
    out: list[PlannedVisit] = []
    for g in groups:
        ordered = sorted(g.visits, key=lambda c: (c.city, c.uscc))
        needed = -(-len(ordered) // visits_per_day)
        if needed > len(days):
            raise InputError(
                f"group {g.number} has {len(ordered)} visits: {needed} working days needed, "
                f"{len(days)} in {first}..{last}", field="groups",
            )  # fmt: skip
        for i, c in enumerate(ordered):
            out.append(PlannedVisit(g.number, g.home_city, c, days[i // visits_per_day]))
    return out


def plan_round(
    candidates: Sequence[Candidate],
    *,
    homes: Sequence[str],
    first: date,
    last: date,
    tolerance: float,
    visits_per_day: int,
) -> RoundPlan:
    """Assign and date every visit of a round (pure: no database)."""
    if not 0 < tolerance < 1:
        raise InputError("a tolerance between 0 and 1 (a share of the mean)", field="tolerance")
    if visits_per_day < 1:
        raise InputError("at least one visit a day", field="visits_per_day")
    groups = assign(candidates, homes, tolerance)
    visits = schedule(groups, first, last, visits_per_day)
    mean = sum(g.load for g in groups) / len(groups)
    return RoundPlan(groups, visits, mean, deviation(groups))
