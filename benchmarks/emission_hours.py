"""The emissions figures from the hourly rollup (``emission_hours``) against the raw
readings, on a simulated province, in the same run.

    .venv/bin/python benchmarks/emission_hours.py --enterprises 20 --days 31 [--postgresql]

Generates a province (``kilnwatch.sim``, 15-minute readings), imports its registry, the
readings of its monitored analysers (CEMS) and its permits through the real importers into a
fresh SQLite (or PostgreSQL) database, then measures:

* **ingest**: the import's time and the part of it spent keeping ``emission_hours``
  (``refresh_emission_hours``, timed around the call);
* **rows read** by a province's emission figures of the month: the readings of the month and
  of the ``history_days`` look-back, against the analyser-hours of the rollup;
* **read time**: the province's stack accounts of the month (``emissions_scope``) from the raw
  readings and from the rollup, median of three each, and that both give the same totals;
* **bytes** (PostgreSQL): ``emission_hours`` with its key, per analyser-hour, against the
  readings per reading.

Prints a ``RESULT`` JSON line. Seconds measured on a shared machine are "under load": the
ratios of the same run are the figures to keep.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

import kilnwatch.ingest.pipeline as pipeline
from kilnwatch.config import Settings
from kilnwatch.domain.periods import Period
from kilnwatch.emissions.service import GROUPINGS, emissions_scope
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.permits import import_permits
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.reference.emissions import MONITORED_CARRIERS
from kilnwatch.sim.config import SimParams
from kilnwatch.sim.run import simulate_to_dir
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import EmissionHour, Meter, Reading

ADMIN = Principal("benchmark", Role.ADMIN)
ZONE = "Asia/Shanghai"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def database(postgresql: bool, folder: Path) -> Iterator[str]:
    if not postgresql:
        yield f"sqlite:///{folder / 'emission_hours.sqlite'}"
        return
    from scale import pg_database

    with pg_database(PG_ADMIN) as url:
        yield url


def keep_monitored(folder: Path) -> None:
    """Only the readings of the monitored analysers stay in ``readings.csv``."""
    import csv

    with (folder / "meters.csv").open(encoding="utf-8") as fh:
        kept = {r["meter_code"] for r in csv.DictReader(fh) if r["carrier"] in MONITORED_CARRIERS}
    lines = (folder / "readings.csv").read_text(encoding="utf-8").splitlines()
    body = [line for line in lines[1:] if line.split(",", 1)[0] in kept]
    (folder / "readings.csv").write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")


def load(url: str, folder: Path) -> dict[str, float]:
    """Import the province; time the import and the rollup's share of it."""
    spent = [0.0]
    original = pipeline.refresh_emission_hours

    def timed(*args: Any, **kwargs: Any) -> int:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    engine = make_engine(Settings(database_url=url, environment="test", timezone=ZONE))
    upgrade(engine)
    pipeline.refresh_emission_hours = timed
    started = time.perf_counter()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            import_registry(session, folder)
            import_readings_file(session, folder / "readings.csv", skip_invalid=True,
                                 policy=ValidationPolicy(local_tz=ZONE))  # fmt: skip
            import_permits(session, folder / "permits.csv")
    finally:
        pipeline.refresh_emission_hours = original
    total = time.perf_counter() - started
    engine.dispose()
    return {"import_s": round(total, 2), "emission_hours_s": round(spent[0], 2),
            "emission_hours_share": round(spent[0] / total, 3)}  # fmt: skip


def measure(url: str, month: Period) -> dict[str, Any]:
    engine = make_engine(Settings(database_url=url, environment="test", timezone=ZONE))
    out: dict[str, Any] = {}
    with unit_of_work(make_session_factory(engine)) as session:
        monitored = select(Meter.id).where(Meter.carrier.in_(sorted(MONITORED_CARRIERS)))
        out["readings"] = session.scalar(
            select(func.count()).select_from(Reading).where(Reading.meter_id.in_(monitored))
        )
        out["analyser_hours"] = session.scalar(select(func.count()).select_from(EmissionHour))
        totals: dict[str, Any] = {}
        for source in ("readings", "rollups"):
            seconds = []
            for _ in range(3):
                started = time.perf_counter()
                scope = emissions_scope(session, ADMIN, month, source=source)
                seconds.append(time.perf_counter() - started)
            out[f"accounts_{source}_s"] = round(statistics.median(seconds), 3)
            totals[source] = [
                [t.as_json() for t in scope.totals(session, by)] for by in GROUPINGS
            ] + [[a.pollutants for a in scope.accounts]]
            out["stacks"] = len(scope.accounts)
        out["same_figures"] = totals["readings"] == totals["rollups"]
        out["read_speedup"] = round(out["accounts_readings_s"] / out["accounts_rollups_s"], 1)
        out["rows_ratio"] = round(out["readings"] / max(1, out["analyser_hours"]), 1)
        if session.get_bind().dialect.name == "postgresql":
            size = "SELECT pg_total_relation_size(CAST(:t AS regclass))"
            hours_b = session.scalar(text(size), {"t": "emission_hours"})
            parts = session.scalar(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = CAST('readings' AS regclass)"
            ))  # fmt: skip
            every = session.scalar(select(func.count()).select_from(Reading))
            out["bytes_per_analyser_hour"] = round(hours_b / max(1, out["analyser_hours"]), 1)
            out["bytes_per_reading"] = round(float(parts) / max(1, every), 1)
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--enterprises", type=int, default=20)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL at 127.0.0.1")
    args = parser.parse_args()
    start = date(2025, 3, 1)
    params = SimParams(seed=args.seed, enterprises=args.enterprises, days=args.days,
                       start=start, output_format="csv")  # fmt: skip
    month = Period.containing("month", start, ZoneInfo(ZONE))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "province"
        simulate_to_dir(params, folder)
        keep_monitored(folder)
        with database(args.postgresql, Path(tmp)) as url:
            result = load(url, folder) | measure(url, month)
    result |= {"database": "postgresql" if args.postgresql else "sqlite",
               "seed": args.seed, "enterprises": args.enterprises, "days": args.days}  # fmt: skip
    print("RESULT " + json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
