"""How cost grows with the province: verification, storage, indexes, ingest by writers.

    .venv/bin/python benchmarks/scale.py --quick      # 25 and 100 enterprises, 1-3 months, 1 h
    .venv/bin/python benchmarks/scale.py              # 100 .. 3 000 enterprises, 1-12 months

For each number of enterprises a simulated province (``kilnwatch.sim``) is loaded into a
fresh PostgreSQL database (partitioned ``readings``, migration 0060) one month after another;
after each month is imported, that month is verified with one job and with two
(``verify_period(..., jobs=N)``, rolled back so both see the same data), beside the same-run
baseline: one plain read of the month's readings. At the end of the largest run: bytes stored
per reading (every partition with its indexes, over the rows) on PostgreSQL, and on SQLite
for the smallest province; the index choice on ``ts`` (none, B-tree, BRIN: size and the time
of the queries rollups and exports make, in the same run); ingest throughput by writers from
``benchmarks/scale_ingest.py`` (``measure``) when that module is present; and the Parquet
bytes per reading of ``kilnwatch db archive`` (the oldest months, at the very end). The last line is
``RESULT {json}``. Seconds depend on the machine's load: compare the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Engine, text

from kilnwatch.config import Settings
from kilnwatch.domain.periods import Period, parse_period
from kilnwatch.ingest.folder import import_folder
from kilnwatch.ingest.readings_file import FileImportReport, import_readings_file
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.sim import SimParams, simulate_to_dir
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.partitions import TS_BRIN_INDEX, partition_name
from kilnwatch.verify.run import verify_period

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # pg_support
from pg_support import throwaway_database  # noqa: E402

HERE = Path(__file__).parent
ZONE = "Asia/Shanghai"
FIRST = date(2025, 1, 1)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
QUICK: dict[str, Any] = {"enterprises": [25, 100], "months": 3, "interval_min": 60}
FULL: dict[str, Any] = {"enterprises": [100, 300, 1000, 3000], "months": 12, "interval_min": 15}
REPEATS = 3


def month_days(months: int) -> int:
    return sum(_month(m + 1).toordinal() - _month(m).toordinal() for m in range(months))


def _month(n: int) -> date:
    return date(FIRST.year + (FIRST.month - 1 + n) // 12, (FIRST.month - 1 + n) % 12 + 1, 1)


def period_of(n: int) -> Period:
    return parse_period(f"{_month(n):%Y-%m}", ZoneInfo(ZONE))


def simulate(enterprises: int, months: int, interval_min: int, folder: Path) -> list[Path]:
    """A simulated province in ``folder``; its readings split into one Parquet file per local
    month (returned in order), so months can be imported one after the other."""
    params = SimParams(seed=20, enterprises=enterprises, days=month_days(months), start=FIRST,
                       interval_min=interval_min, output_format="parquet")  # fmt: skip
    simulate_to_dir(params, folder)
    readings = pl.read_parquet(folder / "readings.parquet")
    (folder / "readings.parquet").unlink()
    files = []
    for n in range(months):
        path = folder / f"month_{n + 1:02d}.parquet"
        key = f"{_month(n):%Y-%m}"
        readings.filter(pl.col("ts").dt.strftime("%Y-%m") == key).write_parquet(path)
        files.append(path)
    return files


def plain_read(engine: Engine, period: Period) -> tuple[float, int]:
    """Baseline: every reading row of the month read once, no verification."""
    started = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT meter_id, ts, version, value, flag, source, received_at FROM readings "
                 "WHERE ts >= :a AND ts <= :b"),
            {"a": period.start - timedelta(hours=1), "b": period.end},
        ).all()  # fmt: skip
    return time.perf_counter() - started, len(rows)


def verify_seconds(engine: Engine, period: Period, jobs: int) -> float:
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with factory() as session:
        verify_period(session, period, jobs=jobs)
        session.rollback()
    return time.perf_counter() - started


def import_months(
    engine: Engine, folder: Path, files: list[Path]
) -> Iterator[tuple[int, FileImportReport, float]]:
    """Import the registry and sources, then yield, month after month, the month's index, its
    import's counts and seconds once its file is imported."""
    policy = ValidationPolicy(local_tz=ZONE)
    with unit_of_work(make_session_factory(engine)) as session:
        import_folder(session, folder, policy=policy)
    for n, path in enumerate(files):
        started = time.perf_counter()
        with unit_of_work(make_session_factory(engine)) as session:
            counts = import_readings_file(session, path, skip_invalid=True, policy=policy)
        yield n, counts, time.perf_counter() - started


def load_province(
    engine: Engine, folder: Path, files: list[Path], measure: bool, warm: bool = False
) -> list[dict[str, Any]]:
    """Import the registry and sources, then month after month: import, verify (1 and 2 jobs)
    and the baseline read; ``warm``: first start the pool of two workers (not measured)."""
    points = []
    for n, counts, import_s in import_months(engine, folder, files):
        if not measure:
            continue
        period = period_of(n)
        if warm and n == 0:
            verify_seconds(engine, period, 2)
        scan_s, rows = plain_read(engine, period)
        jobs1 = verify_seconds(engine, period, 1)
        jobs2 = verify_seconds(engine, period, 2)
        points.append({
            "months_stored": n + 1, "period": period.label, "readings_in_month": rows,
            "readings_imported": counts.accepted, "import_s": round(import_s, 2),
            "baseline_read_s": round(scan_s, 3), "verify_jobs1_s": round(jobs1, 2),
            "verify_jobs2_s": round(jobs2, 2),
            "verify_jobs1_to_baseline": round(jobs1 / max(scan_s, 1e-9), 1),
            "speedup_jobs2": round(jobs1 / max(jobs2, 1e-9), 2),
        })  # fmt: skip
        print(json.dumps(points[-1]), flush=True)
    return points


def import_only(engine: Engine, folder: Path, files: list[Path]) -> list[dict[str, Any]]:
    """Import the registry, then each month's file (nothing verified): seconds, readings per
    second and the bytes of ``rollups`` and ``emission_hours`` (``pg_total_relation_size``,
    dead row versions included) after each month."""
    points = []
    for n, counts, import_s in import_months(engine, folder, files):
        with engine.connect() as conn:
            sizes = {
                f"{table}_bytes": int(
                    conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar() or 0
                )
                for table in ("rollups", "emission_hours")
            }
            rollup_rows = int(conn.execute(text("SELECT count(*) FROM rollups")).scalar() or 0)
        points.append({
            "months_stored": n + 1, "period": period_of(n).label,
            "readings_imported": counts.accepted, "import_s": round(import_s, 2),
            "readings_per_s": round(counts.accepted / max(import_s, 1e-9)),
            "rollup_rows": rollup_rows, **sizes,
        })  # fmt: skip
        print(json.dumps(points[-1]), flush=True)
    return points


def simulated(enterprises: int, months: int, interval_min: int, root: Path) -> list[Path]:
    """:func:`simulate` into ``root``, or the files a run before left there (same seed)."""
    folder = root / f"e{enterprises}_m{months}_i{interval_min}"
    files = [folder / f"month_{n + 1:02d}.parquet" for n in range(months)]
    if not all(f.exists() for f in files):
        files = simulate(enterprises, months, interval_min, folder)
    return files


def pg_bytes_per_reading(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        size = conn.execute(
            text("SELECT COALESCE(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
                 "WHERE inhparent = 'readings'::regclass")
        ).scalar()  # fmt: skip
        rows = conn.execute(text("SELECT count(*) FROM readings")).scalar()
    return {"bytes": int(size or 0), "rows": int(rows or 0),
            "bytes_per_reading": round(int(size or 0) / max(int(rows or 0), 1), 1)}  # fmt: skip


def sqlite_bytes_per_reading(folder: Path, files: list[Path]) -> dict[str, Any]:
    """The same province in SQLite: pages of the readings table and its key index (dbstat)."""
    db = folder / "scale.sqlite"
    engine = make_engine(Settings(database_url=f"sqlite:///{db}", environment="test"))
    upgrade(engine)
    load_province(engine, folder, files, measure=False)
    with engine.connect() as conn:
        size = conn.execute(
            text("SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master "
                 "WHERE tbl_name = 'readings')")
        ).scalar()  # fmt: skip
        rows = conn.execute(text("SELECT count(*) FROM readings")).scalar()
    engine.dispose()
    return {"bytes": int(size or 0), "rows": int(rows or 0),
            "bytes_per_reading": round(int(size or 0) / max(int(rows or 0), 1), 1)}  # fmt: skip


def _median_s(conn: Any, sql: str, params: dict[str, Any]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        conn.execute(text(sql), params).all()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4)


def _plan(conn: Any, sql: str, params: dict[str, Any]) -> str:
    lines = conn.execute(text(f"EXPLAIN {sql}"), params).scalars().all()
    for kind in ("Bitmap Index Scan", "Index Only Scan", "Index Scan", "Seq Scan"):
        found = [ln for ln in lines if kind in ln]
        if found:
            return f"{kind} on {found[0].split(' on ')[-1].split()[0]}"
    return lines[0].strip()


def index_choice(engine: Engine, last: Period) -> dict[str, Any]:
    """No index on ts, a B-tree, a BRIN: index size and query times (median of 3), the
    queries of the rollups (one meter's month, by the key), of a day's export of every meter,
    of a city's week and of a whole month (verification), on the same data."""
    day = last.start + timedelta(days=14)
    with engine.connect() as conn:
        meters = (
            conn.execute(text("SELECT DISTINCT meter_id FROM readings ORDER BY 1")).scalars().all()
        )
        partition = partition_name(day.date())  # the UTC month holding the day queried
        conn.execute(text("ANALYZE readings"))
        correlation = conn.execute(
            text("SELECT correlation FROM pg_stats WHERE tablename = :t AND attname = 'ts'"),
            {"t": partition},
        ).scalar()
        conn.commit()
    city = list(meters[: max(1, len(meters) // 16)])
    queries = {
        "meter_month": ("SELECT ts, value FROM readings WHERE meter_id = :m AND ts >= :a "
                        "AND ts < :b",
                        {"m": meters[len(meters) // 2], "a": last.start, "b": last.end}),
        "all_meters_day": ("SELECT meter_id, ts, value FROM readings WHERE ts >= :a AND ts < :b",
                           {"a": day, "b": day + timedelta(days=1)}),
        "city_week": ("SELECT meter_id, ts, value FROM readings WHERE meter_id = ANY(:ids) "
                      "AND ts >= :a AND ts < :b",
                      {"ids": city, "a": day, "b": day + timedelta(days=7)}),
        "all_meters_month": ("SELECT meter_id, ts, value FROM readings WHERE ts >= :a AND ts < :b",
                             {"a": last.start, "b": last.end}),
    }  # fmt: skip
    variants = {"none": None, "btree": "btree (ts)", "brin": "brin (ts)"}
    out: dict[str, Any] = {"partition": partition, "ts_correlation": correlation}
    with engine.connect() as conn:  # the migration's BRIN (0061) out of the way while compared
        conn.execute(text(f"DROP INDEX IF EXISTS {TS_BRIN_INDEX}"))
        conn.commit()
    for name, using in variants.items():
        with engine.connect() as conn:
            if using:
                conn.execute(text(f"CREATE INDEX kw_bench_ts ON readings USING {using}"))
                conn.execute(text("ANALYZE readings"))
                conn.commit()
            size = conn.execute(  # every index of the partition but its primary key
                text("SELECT COALESCE(sum(pg_relation_size(indexrelid)), 0) FROM pg_index "
                     "WHERE indrelid = CAST(:p AS regclass) AND NOT indisprimary"),
                {"p": partition},
            ).scalar()  # fmt: skip
            table = conn.execute(text(f"SELECT pg_relation_size('{partition}')")).scalar()
            result: dict[str, Any] = {"index_bytes": int(size or 0),
                                      "partition_table_bytes": int(table or 0)}  # fmt: skip
            for q, (sql, params) in queries.items():
                result[f"{q}_s"] = _median_s(conn, sql, params)
                result[f"{q}_plan"] = _plan(conn, sql, params)
            if using:
                conn.execute(text("DROP INDEX kw_bench_ts"))
                conn.commit()
        out[name] = result
        print(json.dumps({name: result}), flush=True)
    with engine.connect() as conn:  # back as the migration left it
        conn.execute(text(f"CREATE INDEX {TS_BRIN_INDEX} ON readings USING brin (ts)"))
        conn.commit()
    return out


def archive_bytes_per_reading(engine: Engine, folder: Path) -> dict[str, Any]:
    """``kilnwatch db archive`` of the first month (after everything else was measured):
    Parquet bytes per reading, and the seconds to write, check and drop it."""
    from kilnwatch.store.archive import archive_before

    started = time.perf_counter()
    with engine.begin() as conn:
        done = archive_before(conn, _month(1), folder)
    seconds = time.perf_counter() - started
    size = sum((folder / m.file).stat().st_size for m in done)
    rows = sum(m.rows for m in done)
    return {"months": [m.month for m in done], "bytes": size, "rows": rows,
            "bytes_per_reading": round(size / max(rows, 1), 1),
            "archive_s": round(seconds, 2)}  # fmt: skip


def ingest_by_writers(quick: bool) -> dict[str, Any]:
    """``benchmarks/scale_ingest.py`` (the JetStream writers) when present."""
    path = HERE / "scale_ingest.py"
    if not path.exists():
        return {"ingest_readings_per_s_by_writers": None, "note": "scale_ingest.py not present"}
    spec = importlib.util.spec_from_file_location("scale_ingest", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_ingest"] = module
    spec.loader.exec_module(module)
    writers, readings = ([1, 2], 20_000) if quick else ([1, 2, 4, 8], 200_000)
    found: dict[str, Any] = module.measure(writers=writers, readings=readings)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a shared machine)")
    parser.add_argument("--pg", default=PG_ADMIN, help="PostgreSQL admin DSN")
    parser.add_argument("--enterprises", type=int, nargs="*", help="override the sizes")
    parser.add_argument("--months", type=int, help="override the months")
    parser.add_argument("--interval-min", type=int, help="override the meters' interval [min]")
    parser.add_argument("--no-ingest", action="store_true", help="skip the writers' benchmark")
    parser.add_argument(
        "--ingest-only", action="store_true", help="only the writers' benchmark (scale_ingest.py)"
    )
    parser.add_argument(
        "--import-only", action="store_true",
        help="only the import of each month's file (readings/s, rollups bytes); no verify",
    )  # fmt: skip
    parser.add_argument(
        "--sim-dir", type=Path, help="keep the simulated files here and reuse them (--import-only)"
    )
    args = parser.parse_args(argv)
    if args.ingest_only:
        found = {"quick": args.quick, **ingest_by_writers(args.quick)}
        print("RESULT " + json.dumps(found, default=str))
        return 0
    plan: dict[str, Any] = dict(QUICK if args.quick else FULL)
    if args.enterprises:
        plan["enterprises"] = args.enterprises
    if args.months:
        plan["months"] = args.months
    if args.interval_min:
        plan["interval_min"] = args.interval_min
    result: dict[str, Any] = {"quick": args.quick, "interval_min": plan["interval_min"],
                              "sizes_run": [], "verify": []}  # fmt: skip
    sizes: list[int] = plan["enterprises"]
    months: int = plan["months"]
    if args.import_only:
        return _import_only(args, sizes, months, int(plan["interval_min"]))
    with tempfile.TemporaryDirectory() as tmp:
        for n, enterprises in enumerate(sizes):
            folder = Path(tmp) / f"e{enterprises}"
            files = simulate(enterprises, months, int(plan["interval_min"]), folder)
            with throwaway_database("kilnwatch_scale", args.pg) as url:
                engine = make_engine(Settings(database_url=url, environment="test"))
                upgrade(engine)
                points = load_province(engine, folder, files, measure=True, warm=n == 0)
                for p in points:
                    result["verify"].append({"enterprises": enterprises, **p})
                result["sizes_run"].append({"enterprises": enterprises, "months": months})
                if enterprises == sizes[-1]:
                    result["postgresql"] = pg_bytes_per_reading(engine)
                    result["index_choice"] = index_choice(engine, period_of(months - 1))
                    result["archive"] = archive_bytes_per_reading(engine, Path(tmp) / "archive")
                engine.dispose()
            if n == 0:
                result["sqlite"] = sqlite_bytes_per_reading(folder, files)
    result["bytes_per_reading_postgresql"] = result["postgresql"]["bytes_per_reading"]
    result["bytes_per_reading_sqlite"] = result["sqlite"]["bytes_per_reading"]
    result["bytes_per_reading_parquet_archive"] = result["archive"]["bytes_per_reading"]
    result["sqlite_province_enterprises"] = sizes[0]
    if not args.no_ingest:
        result.update(ingest_by_writers(args.quick))
    print("RESULT " + json.dumps(result, default=str))
    return 0


def _import_only(args: argparse.Namespace, sizes: list[int], months: int, interval_min: int) -> int:
    """``--import-only``: each size's months imported into a fresh database, nothing else."""
    result: dict[str, Any] = {"interval_min": interval_min, "imports": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.sim_dir or Path(tmp)
        for enterprises in sizes:
            files = simulated(enterprises, months, interval_min, root)
            with throwaway_database("kilnwatch_scale", args.pg) as url:
                engine = make_engine(Settings(database_url=url, environment="test"))
                upgrade(engine)
                for p in import_only(engine, files[0].parent, files):
                    result["imports"].append({"enterprises": enterprises, **p})
                engine.dispose()
    print("RESULT " + json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
