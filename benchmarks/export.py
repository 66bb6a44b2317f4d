"""Memory and speed of exporting a year of one city's readings (CSV and Parquet).

    .venv/bin/python benchmarks/export.py [--meters 60] [--pg postgresql://postgres@127.0.0.1/postgres]

Builds a fresh PostgreSQL database with one city (Zibo, 3703) of ``--enterprises`` enterprises
and ``--meters`` meters, 15-minute readings for the 12 months of 2025 (``meters x 35 040``
rows, bulk-loaded with COPY), then runs each export in its own process and reads its peak
resident memory (``VmHWM`` of ``/proc/self/status``):

* ``kilnwatch export readings --city 3703 --format csv|parquet`` (the command as shipped);
* baseline 1: ``COPY (the same SELECT) TO STDOUT WITH CSV`` into a file (the server's own
  dump, the speed to compare with);
* baseline 2: a plain client-side cursor (``fetchall`` then ``csv.writer``), the way an export
  is often first written: its memory grows with the export.

Ends with ``RESULT {json}``: ``export_peak_rss_mb`` (the larger of CSV and Parquet; goal
< 300 MB), rows per second of each path, file sizes and the data size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # pg_support
from pg_support import throwaway_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CITY_COUNTY = "370303"  # 张店区, in 淄博市 (3703)
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=8)  # local midnight, UTC+8
INTERVAL = timedelta(minutes=15)
CARRIERS = (("electricity", "counter", "kWh"), ("raw_coal", "interval", "t"),
            ("natural_gas", "interval", "m3"), ("steam", "interval", "GJ"),
            ("product:clinker", "interval", "t"), ("electricity", "interval", "kWh"))  # fmt: skip
GOAL_PEAK_RSS_MB = 300

PEAK = """
def _peak_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
"""
CLI_CHILD = (
    PEAK
    + """
import sys, json, time
from kilnwatch.cli import app
t = time.perf_counter()
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print('CHILD ' + json.dumps({'seconds': time.perf_counter() - t, 'peak_mb': _peak_mb()}))
"""
)
COPY_CHILD = (
    PEAK
    + """
import sys, json, time, psycopg
dsn, sql, out = sys.argv[1:4]
t = time.perf_counter()
with psycopg.connect(dsn) as conn, conn.cursor() as cur, open(out, 'wb') as f:
    with cur.copy(f'COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)') as copy:
        for data in copy:
            f.write(data)
print('CHILD ' + json.dumps({'seconds': time.perf_counter() - t, 'peak_mb': _peak_mb()}))
"""
)
FETCHALL_CHILD = (
    PEAK
    + """
import sys, json, time, csv, psycopg
dsn, sql, out = sys.argv[1:4]
t = time.perf_counter()
with psycopg.connect(dsn) as conn, conn.cursor() as cur, open(out, 'w', newline='') as f:
    cur.execute(sql)
    rows = cur.fetchall()
    w = csv.writer(f)
    w.writerow([d.name for d in cur.description])
    w.writerows(rows)
print('CHILD ' + json.dumps({'seconds': time.perf_counter() - t, 'peak_mb': _peak_mb()}))
"""
)
SQL = """SELECT m.code AS meter_code, e.uscc AS enterprise_uscc, e.region_code, e.industry,
 m.carrier, m.measurement, r.ts, r.value, m.unit_of_measure AS unit, r.version, r.flag, r.source
 FROM readings r JOIN meters m ON m.id = r.meter_id JOIN enterprises e ON e.id = m.enterprise_id
 WHERE e.region_code LIKE '3703%' AND r.ts >= '{start}' AND r.ts < '{end}'
 ORDER BY r.meter_id, r.ts"""


def build(dsn: str, enterprises: int, meters: int) -> int:
    """Registry and a year of 15-minute readings; returns the number of readings."""
    from kilnwatch.config import Settings
    from kilnwatch.store.engine import make_engine
    from kilnwatch.store.migrate import upgrade

    engine = make_engine(Settings(database_url=dsn, environment="test"))
    upgrade(engine)
    engine.dispose()
    steps = int((timedelta(days=365)) / INTERVAL)
    with psycopg.connect(dsn) as conn:
        for i in range(enterprises):
            conn.execute(
                "INSERT INTO enterprises (id, uscc, name, region_code, industry, status,"
                " created_at) VALUES (%s, %s, %s, %s, 'cement', 'operating', now())",
                (i + 1, f"91370300BENCH{i:05d}", f"基准测试企业{i}", CITY_COUNTY),
            )
        for j in range(meters):
            carrier, measurement, unit = CARRIERS[j % len(CARRIERS)]
            conn.execute(
                "INSERT INTO meters (id, code, enterprise_id, carrier, level, measurement,"
                " unit_of_measure) VALUES (%s, %s, %s, %s, 'sub_unit', %s, %s)",
                (j + 1, f"M-BENCH-{j:04d}", j % enterprises + 1, carrier, measurement, unit),
            )
        received = datetime(2026, 1, 2, tzinfo=UTC).isoformat()
        with conn.cursor().copy(
            "COPY readings (meter_id, ts, version, value, source, received_at) FROM STDIN"
        ) as copy:
            for j in range(meters):
                lines = []
                for k in range(1, steps + 1):
                    ts = (YEAR_START + INTERVAL * k).isoformat()
                    lines.append(
                        f"{j + 1}\t{ts}\t1\t{(k * 7919 + j) % 1000 / 10:.1f}\t6\t{received}\n"
                    )
                copy.write("".join(lines))
        conn.execute("ANALYZE readings")
    return steps * meters


def child(code: str, args: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT)  # fmt: skip
    line = next((x for x in proc.stdout.splitlines() if x.startswith("CHILD ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"child failed: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(line[len("CHILD ") :])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", default=os.environ.get(
        "KILNWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))  # fmt: skip
    parser.add_argument("--enterprises", type=int, default=12)
    parser.add_argument("--meters", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-export")
    parser.add_argument("--skip-fetchall", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with throwaway_database("kilnwatch_bench_export", args.pg) as dsn:
        started = time.perf_counter()
        rows = build(dsn, args.enterprises, args.meters)
        load_s = time.perf_counter() - started
        print(f"loaded {rows:,} readings ({args.meters} meters x 12 months at 15 min) "
              f"in {load_s:.1f}s", flush=True)  # fmt: skip
        start, end = "2025-01-01", "2026-01-01"
        results: dict[str, dict[str, float]] = {}
        os.environ["KILNWATCH_DATABASE_URL"] = dsn
        for fmt in ("csv", "parquet"):
            out = args.out / f"readings.{fmt}"
            results[fmt] = child(CLI_CHILD, ["export", "readings", "--city", "3703", "--start",
                                             start, "--end", end, "--format", fmt, "--out",
                                             str(out)])  # fmt: skip
            results[fmt]["mb"] = out.stat().st_size / 2**20
            print(f"{fmt}: {results[fmt]}", flush=True)
        sql = " ".join(SQL.format(start="2024-12-31T16:00:00Z", end="2025-12-31T16:00:00Z").split())
        copy_out = args.out / "baseline-copy.csv"
        results["copy"] = child(COPY_CHILD, [dsn, sql, str(copy_out)])
        results["copy"]["mb"] = copy_out.stat().st_size / 2**20
        print(f"COPY baseline: {results['copy']}", flush=True)
        if not args.skip_fetchall:
            fetch_out = args.out / "baseline-fetchall.csv"
            results["fetchall"] = child(FETCHALL_CHILD, [dsn, sql, str(fetch_out)])
            print(f"fetchall baseline: {results['fetchall']}", flush=True)

    def rate(key: str) -> float:
        return round(rows / results[key]["seconds"])

    summary = {
        "rows": rows, "meters": args.meters, "enterprises": args.enterprises, "months": 12,
        "interval_min": 15, "load_seconds": round(load_s, 1),
        "export_peak_rss_mb": round(max(results[k]["peak_mb"] for k in ("csv", "parquet")), 1),
        "goal_peak_rss_mb": GOAL_PEAK_RSS_MB,
        "csv_peak_rss_mb": round(results["csv"]["peak_mb"], 1),
        "parquet_peak_rss_mb": round(results["parquet"]["peak_mb"], 1),
        "csv_rows_per_s": rate("csv"), "parquet_rows_per_s": rate("parquet"),
        "csv_mb": round(results["csv"]["mb"], 1), "parquet_mb": round(results["parquet"]["mb"], 1),
        "baseline_copy_rows_per_s": rate("copy"),
        "baseline_copy_peak_rss_mb": round(results["copy"]["peak_mb"], 1),
        "baseline_copy_csv_mb": round(results["copy"]["mb"], 1),
        "csv_time_ratio_to_copy": round(results["csv"]["seconds"] / results["copy"]["seconds"], 2),
    }  # fmt: skip
    if "fetchall" in results:
        summary["baseline_fetchall_peak_rss_mb"] = round(results["fetchall"]["peak_mb"], 1)
        summary["baseline_fetchall_rows_per_s"] = rate("fetchall")
    print("RESULT " + json.dumps(summary))
    return 0 if summary["export_peak_rss_mb"] < GOAL_PEAK_RSS_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
