"""Metering census and operation rules on a simulated province with planted metering gaps.

    .venv/bin/python benchmarks/metering.py --seed 21 --enterprises 30 --days 14

Simulates a province with missing instruments, wrong accuracy classes, overdue calibrations,
silent meters and replacements (plus the simulator's usual faults), imports the registry, the
readings and the census into a fresh SQLite database, takes the census on the first simulated
day and the meter operation over the whole run, and scores both against the labels
(:mod:`kilnwatch.metering.evaluate`). Baseline in the same run: the plain count of hourly
rollups the operation rules read. Prints a ``RESULT`` JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from kilnwatch.config import Settings
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.folder import import_folder
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.metering import OperationSettings, enterprise_census, enterprise_operation
from kilnwatch.metering.evaluate import other_gaps, score
from kilnwatch.metering.imports import import_metering
from kilnwatch.sim import SimParams, simulate_to_dir
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Rollup

ADMIN = Principal("benchmark", Role.ADMIN)


def gap_params(seed: int, enterprises: int, days: int, start: date) -> SimParams:
    """A province with every kind of metering gap planted."""
    return SimParams(
        seed=seed, enterprises=enterprises, days=days, start=start, output_format="csv",
        wrong_accuracy_fraction=0.15, silent_meter_fraction=0.02,
        meter_replacement_fraction=0.03,
    )  # fmt: skip


def _labels(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run(params: SimParams, base: Path) -> dict[str, object]:
    out = base / "sim"
    simulate_to_dir(params, out)
    s = Settings(database_url=f"sqlite:///{base / 'kw.sqlite'}")
    engine = make_engine(s)
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        import_folder(session, out, policy=ValidationPolicy(local_tz=s.timezone))
        import_metering(session, out)
        session.commit()
        t = time.perf_counter()
        censuses = enterprise_census(session, ADMIN, params.start)
        census_s = time.perf_counter() - t
        start = datetime.combine(params.start, datetime.min.time(), tzinfo=s.zone).astimezone(UTC)
        end = start + timedelta(days=params.days)
        ids = list(session.scalars(select(Enterprise.id)))
        settings = OperationSettings()
        t = time.perf_counter()
        ops = enterprise_operation(session, ids, start, end, settings=settings)
        operation_s = time.perf_counter() - t
        t = time.perf_counter()
        rollup_rows = session.scalar(
            select(func.count())
            .select_from(Rollup)
            .where(Rollup.grain == "hour", Rollup.period_start >= start, Rollup.period_start < end)
        )
        baseline_s = time.perf_counter() - t
    engine.dispose()
    metering_labels, fault_labels = (
        _labels(out / "metering_labels.csv"),
        _labels(out / "labels.csv"),
    )
    kinds = score(censuses, ops.values(), metering_labels, fault_labels,
                  silent_h=settings.silent_h, stuck_h=settings.stuck_h)  # fmt: skip
    return {
        "kinds": kinds,
        "other_gaps": other_gaps(censuses),
        "exact": all(not k["missed"] and not k["extra"] for k in kinds.values()),
        "census_seconds": round(census_s, 3),
        "operation_seconds": round(operation_s, 3),
        "baseline_count_hour_rollups_seconds": round(baseline_s, 3),
        "hour_rollups": rollup_rows,
        "online_fraction_mean": round(
            sum(o.online_fraction for o in ops.values()) / max(1, len(ops)), 4
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--enterprises", type=int, default=30)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 3, 1))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(gap_params(args.seed, args.enterprises, args.days, args.start), Path(tmp))
    result.update(seed=args.seed, enterprises=args.enterprises, days=args.days)
    sys.stdout.write("RESULT " + json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
