"""Project control on simulated provinces it was not tuned on (the tests use seed 5).

    .venv/bin/python benchmarks/projects.py --seeds 11,12,13

For each seed: simulate, import registry, readings and project control into a fresh SQLite
database, then score (1) the register's blockers of each project's next stage against
``projects/project_truth.csv``, (2) the cap breaches the province sees for every ISO week wholly
inside the run against ``projects/cap_truth.csv``, and (3) time the weekly joint report of every
city with controlled plants, with the accounting service's unit accounts over the same week as
the same-run baseline. Prints a ``RESULT`` JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kilnwatch.accounting.units import unit_accounts
from kilnwatch.config import Settings
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.folder import import_folder
from kilnwatch.ingest.project_control import import_project_control
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.projects import register, weekly
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.run import simulate_to_dir
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Project

ADMIN = Principal("bench", Role.ADMIN)


def _truth(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / "projects" / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _seed(seed: int, enterprises: int, days: int, start: date, work: Path) -> dict[str, Any]:
    out = work / f"sim{seed}"
    params = SimParams(seed=seed, enterprises=enterprises, days=days, start=start,
                       interval_min=60, output_format="csv")  # fmt: skip
    simulate_to_dir(params, out)
    settings = Settings(database_url=f"sqlite:///{work / f'db{seed}.sqlite'}", environment="test",
                        var_dir=work)  # fmt: skip
    engine = make_engine(settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    zone = settings.zone
    with unit_of_work(factory) as session:
        import_folder(session, out, policy=ValidationPolicy(local_tz=settings.timezone))
        import_project_control(session, out / "projects", zone=zone)
    agree = total = 0
    tp = fp = fn = 0
    generate_s = baseline_s = 0.0
    with unit_of_work(factory) as session:
        for row in _truth(out, "project_truth"):
            pid = session.scalars(select(Project.id).join(Enterprise).where(
                Enterprise.uscc == row["enterprise_uscc"], Project.code == row["project_code"]
            )).one()  # fmt: skip
            got = {b.code for b in register.project_status(session, ADMIN, pid).blockers}
            agree += got == set(filter(None, row["next_blockers"].split(";")))
            total += 1
        caps = _truth(out, "cap_truth")
        for week in sorted({r["period"] for r in caps if r["week_inside_run"] == "true"}):
            expected = {r["enterprise_uscc"] for r in caps
                        if r["period"] == week and r["breach"] == "true"}  # fmt: skip
            view = weekly.province_week(session, ADMIN, week, zone=zone, due_h=36.0,
                                        tolerance_fraction=0.02)  # fmt: skip
            seen = {b["uscc"] for c in view for b in c.breaches}
            tp, fp, fn = (
                tp + len(seen & expected),
                fp + len(seen - expected),
                fn + len(expected - seen),
            )
            period = weekly.week_period(week, zone)
            for c in view:
                started = time.perf_counter()
                weekly.compute_rows(session, ADMIN, c.city_code, period)
                generate_s += time.perf_counter() - started
            started = time.perf_counter()
            unit_accounts(session, ADMIN, period)
            baseline_s += time.perf_counter() - started
    engine.dispose()
    counts = {"stage_agree": agree, "stage_total": total, "cap_tp": tp, "cap_fp": fp}
    return {"seed": seed, **counts, "cap_fn": fn, "weekly_s": generate_s, "baseline_s": baseline_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="11,12,13")
    parser.add_argument("--enterprises", type=int, default=12)
    parser.add_argument("--days", type=int, default=16)
    parser.add_argument("--start", default="2025-03-01")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        runs = [_seed(s, args.enterprises, args.days, date.fromisoformat(args.start), Path(tmp))
                for s in seeds]  # fmt: skip
    for r in runs:
        print(json.dumps(r))
    tp, fp, fn = (sum(r[k] for r in runs) for k in ("cap_tp", "cap_fp", "cap_fn"))
    weekly_s, baseline_s = sum(r["weekly_s"] for r in runs), sum(r["baseline_s"] for r in runs)
    result = {
        "seeds": seeds,
        "stage_blockers_agreement_fraction": sum(r["stage_agree"] for r in runs)
        / max(sum(r["stage_total"] for r in runs), 1),
        "cap_breach_precision": tp / (tp + fp) if tp + fp else None,
        "cap_breach_recall": tp / (tp + fn) if tp + fn else None,
        "cap_breach_tp_fp_fn": [tp, fp, fn],
        "weekly_rows_s": round(weekly_s, 3),
        "baseline_unit_accounts_s": round(baseline_s, 3),
        "weekly_vs_baseline_ratio": round(weekly_s / baseline_s, 2) if baseline_s else None,
        "window_days": args.days,
        "start": args.start,
    }
    print(f"RESULT {json.dumps(result)}")


if __name__ == "__main__":
    main()
