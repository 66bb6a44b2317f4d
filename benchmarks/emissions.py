"""Exceedance detection of the emissions service on a simulated province, against a naive
baseline measured in the same run.

    .venv/bin/python benchmarks/emissions.py --seed 7 --enterprises 30 --days 31

Generates a province (``kilnwatch.sim``: stacks with start-ups, shutdowns, calibration,
maintenance and fault flags, abused flags, and planted ``emission_exceedance`` episodes),
imports its registry, readings and permits into a fresh SQLite database through the real
importers, computes the stack accounts of every month (:mod:`kilnwatch.emissions.service`)
and scores them against ``labels.csv``:

* an episode is **found** when its stack and pollutant have an exceedance hour inside the
  episode's span;
* a **false exceedance hour** is an exceedance hour outside every planted span of its stack
  and pollutant; a **clean stack** has no planted episode and must have none.

The **baseline** judges every 15-minute reading of a pollutant analyser against the same
limit as measured (no flags, no valid-hour rule, no O2 reference): what a platform without the
HJ 75-2017 rules would report. Prints a ``RESULT`` JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kilnwatch.config import Settings
from kilnwatch.domain.emissions import HOUR_S
from kilnwatch.domain.periods import Period
from kilnwatch.emissions.limits import exceedance_mask
from kilnwatch.emissions.service import emissions_scope
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.permits import import_permits
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.run import simulate_to_dir
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Meter

ADMIN = Principal("benchmark", Role.ADMIN)
Key = tuple[str, str, str]  # uscc, unit code, pollutant


def labels_of(folder: Path, carriers: dict[str, str]) -> dict[Key, list[tuple[int, int]]]:
    out: dict[Key, list[tuple[int, int]]] = defaultdict(list)
    with (folder / "labels.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["kind"] == "emission_exceedance":
                key = (row["enterprise_uscc"], row["unit_code"], carriers[row["meter_code"]])
                start = int(datetime.fromisoformat(row["start"]).timestamp())
                end = int(datetime.fromisoformat(row["end"]).timestamp())
                out[key].append((start, end))
    return out


def load(folder: Path, db: Path, zone_name: str) -> dict[str, float]:
    settings = Settings(database_url=f"sqlite:///{db}", environment="test", timezone=zone_name)
    engine = make_engine(settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        import_registry(session, folder)
        import_readings_file(
            session, folder / "readings.csv", skip_invalid=True,
            policy=ValidationPolicy(local_tz=zone_name),
        )  # fmt: skip
        import_permits(session, folder / "permits.csv")
    return {"import_s": round(time.perf_counter() - started, 1)}


def score(db: Path, folder: Path, months: list[Period], zone_name: str) -> dict[str, Any]:
    settings = Settings(database_url=f"sqlite:///{db}", environment="test", timezone=zone_name)
    factory = make_session_factory(make_engine(settings))
    with unit_of_work(factory) as session:
        carriers = {r[0]: r[1] for r in session.execute(select(Meter.code, Meter.carrier))}
        planted = labels_of(folder, carriers)
        usccs = {r[0]: r[1] for r in session.execute(select(Enterprise.id, Enterprise.uscc))}
        hits: dict[Key, set[int]] = defaultdict(set)  # exceedance hour starts [epoch s]
        baseline: dict[Key, set[int]] = defaultdict(set)
        stacks: set[tuple[str, str]] = set()
        started = time.perf_counter()
        for month in months:
            scope = emissions_scope(session, ADMIN, month)
            for a in scope.accounts:
                stacks.add((usccs[a.enterprise_id], a.unit_code))
                for p, acc in a.pollutants.items():
                    if acc.limit is None:
                        continue
                    key = (usccs[a.enterprise_id], a.unit_code, p)
                    h = a.hours[p]
                    for i in exceedance_mask(h, acc.limit).nonzero()[0]:
                        hits[key].add(h.start_s + int(i) * HOUR_S)
                    baseline[key] |= naive_hours(session, a, p, acc.limit.limit_mg_m3, month)
        seconds = time.perf_counter() - started
    return summarise(planted, hits, baseline, stacks) | {"accounts_s": round(seconds, 1)}


def naive_hours(session: Any, a: Any, pollutant: str, limit: float, month: Period) -> set[int]:
    """Hours with any reading of the analyser above the limit as measured, any flag."""
    from kilnwatch.analytics.readings import load_readings

    meter_id = session.scalar(
        select(Meter.id).where(Meter.unit_id == a.unit_id, Meter.carrier == pollutant)
    )
    series = load_readings(session, [meter_id], month.start, month.end).get(meter_id)
    if series is None:
        return set()
    over = series.ts_s[series.value > limit]
    return {int((t - 1) // HOUR_S * HOUR_S) for t in over}


def _inside(t: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= t < e for s, e in spans)


def summarise(
    planted: dict[Key, list[tuple[int, int]]], hits: dict[Key, set[int]],
    baseline: dict[Key, set[int]], stacks: set[tuple[str, str]],
) -> dict[str, Any]:  # fmt: skip
    episodes = [(k, span) for k, spans in planted.items() for span in spans]

    def found(found_hours: dict[Key, set[int]]) -> int:
        return sum(any(s <= t < e for t in found_hours.get(k, ())) for k, (s, e) in episodes)

    def false_hours(found_hours: dict[Key, set[int]]) -> tuple[int, int]:
        hours = stacks_hit = 0
        flagged: set[tuple[str, str]] = set()
        for k, ts in found_hours.items():
            outside = [t for t in ts if not _inside(t, planted.get(k, []))]
            hours += len(outside)
            if outside:
                flagged.add(k[:2])
        stacks_hit = len({s for s in flagged if not any(p[:2] == s for p in planted)})
        return hours, stacks_hit

    fh, clean_hit = false_hours(hits)
    bh, bclean_hit = false_hours(baseline)
    planted_stacks = {k[:2] for k in planted}
    return {
        "stacks": len(stacks),
        "clean_stacks": len(stacks - planted_stacks),
        "episodes_planted": len(episodes),
        "episodes_found": found(hits),
        "false_exceedance_hours": fh,
        "clean_stacks_with_exceedance": clean_hit,
        "baseline_episodes_found": found(baseline),
        "baseline_false_exceedance_hours": bh,
        "baseline_clean_stacks_with_exceedance": bclean_hit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--enterprises", type=int, default=30)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--start", default="2025-03-01")
    parser.add_argument("--keep", type=Path, help="keep the folder and database here")
    parser.add_argument(
        "--reuse", action="store_true", help="score the folder and database left in --keep"
    )
    args = parser.parse_args()
    zone_name = "Asia/Shanghai"
    params = SimParams(
        seed=args.seed, enterprises=args.enterprises, days=args.days,
        start=date.fromisoformat(args.start), output_format="csv",
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        folder, db = base / "province", base / "emissions.sqlite"
        timings: dict[str, float] = {}
        if not (args.reuse and args.keep):
            db.unlink(missing_ok=True)
            simulate_to_dir(params, folder)
            timings = load(folder, db, zone_name)
        from zoneinfo import ZoneInfo

        last = params.start + timedelta(days=params.days - 1)
        months = Period.of_days(params.start, last, ZoneInfo(zone_name)).split("month")
        result = score(db, folder, months, zone_name) | timings
    result |= {"seed": args.seed, "enterprises": args.enterprises, "days": args.days}
    print("RESULT " + json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
