"""The joint inspection round planner on simulated provinces (seeds the tests do not use).

    .venv/bin/python benchmarks/round_planner.py --seed 13 --enterprises 1000 --groups 5

Plans a half-year round with :func:`kilnwatch.supervise.planner.plan_round` (tolerance and loads
from ``reference/supervise/planning.csv``) and checks its constraints: no enterprise twice, no
group in its home city, the largest deviation of a group's load from the mean, the cities each
group travels to, and the planning time. Baseline in the same run: round-robin assignment of the
enterprises (by USCC) to the groups not based in their city, the plain way to keep the first two
constraints. Prints a ``RESULT`` JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date

from kilnwatch.sim import SimParams
from kilnwatch.sim.province import load_counties
from kilnwatch.sim.run import build_province
from kilnwatch.supervise.catalogue import planning
from kilnwatch.supervise.planner import (
    Candidate,
    GroupPlan,
    choose_home_cities,
    deviation,
    plan_round,
)

H1 = (date(2025, 1, 1), date(2025, 6, 30))


def candidates(seed: int, enterprises: int) -> list[Candidate]:
    province = build_province(SimParams(seed=seed, enterprises=enterprises))
    base, per_unit = planning("visit_base_load"), planning("unit_load")
    return [
        Candidate(e.idx, e.uscc, e.name, e.region_code[:4] + "00",
                  base + per_unit * len(e.unit_idx))
        for e in province.enterprises if e.status == "operating"
    ]  # fmt: skip


def round_robin(found: list[Candidate], homes: list[str]) -> list[GroupPlan]:
    groups = [GroupPlan(i + 1, h) for i, h in enumerate(homes)]
    turn = 0
    for c in sorted(found, key=lambda c: c.uscc):
        while groups[turn % len(groups)].home_city == c.city:
            turn += 1
        groups[turn % len(groups)].visits.append(c)
        turn += 1
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=int(planning("groups")))
    args = parser.parse_args()
    found = candidates(args.seed, args.enterprises)
    cities = sorted({code[:4] + "00" for code, _ in load_counties()})
    homes = choose_home_cities(found, args.groups, cities)
    tolerance = planning("load_tolerance_fraction")
    per_day = max(1, -(-len(found) // (args.groups * 120)))
    started = time.perf_counter()
    plan = plan_round(found, homes=homes, first=H1[0], last=H1[1], tolerance=tolerance,
                      visits_per_day=per_day)  # fmt: skip
    seconds = time.perf_counter() - started
    baseline = round_robin(found, homes)
    visits = Counter(v.candidate.enterprise_id for v in plan.visits)
    result = {
        "seed": args.seed, "enterprises": len(found), "groups": args.groups,
        "tolerance_fraction": tolerance, "visits": len(plan.visits),
        "enterprises_visited_twice": sum(n > 1 for n in visits.values()),
        "visits_in_home_city": sum(v.candidate.city == v.group_home_city for v in plan.visits),
        "max_load_deviation_fraction": round(plan.max_deviation_fraction, 4),
        "mean_cities_per_group": round(sum(len(g.cities) for g in plan.groups) / args.groups, 2),
        "plan_s": round(seconds, 3),
        "baseline_max_load_deviation_fraction": round(deviation(baseline), 4),
        "baseline_mean_cities_per_group": round(
            sum(len(g.cities) for g in baseline) / args.groups, 2),
    }  # fmt: skip
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    ok = (result["enterprises_visited_twice"] == 0 and result["visits_in_home_city"] == 0
          and plan.max_deviation_fraction <= tolerance)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
