"""Simulator throughput and memory: rows/s and peak RSS for 30 and 90 simulated days.

Each size runs in its own subprocess so that peak RSS is measured honestly. The same-run
baseline writes the same number of rows of random numbers, day-sized chunk by chunk, with the
same CSV/Parquet writers, so ``ratio`` = simulator rows/s / baseline rows/s shows what the
physics, faults and sources cost on top of plain writing.

Usage: ``python benchmarks/simulate.py [--enterprises 300] [--days 30 90] [--format both]``.
The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def child_simulate(enterprises: int, days: int, fmt: str, out: Path) -> dict[str, float]:
    from kilnwatch.sim import SimParams, simulate_to_dir

    params = SimParams(
        enterprises=enterprises, days=days, start=date(2025, 1, 1), output_format=fmt
    )  # type: ignore[arg-type]
    started = time.perf_counter()
    summary = simulate_to_dir(params, out)
    elapsed = time.perf_counter() - started
    return {"rows": summary.readings_rows, "elapsed_s": elapsed, "peak_rss_mb": _peak_rss_mb()}


def child_baseline(rows: int, days: int, fmt: str, out: Path) -> dict[str, float]:
    """Write ``rows`` random readings in ``days`` chunks with the simulator's writer settings."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    schema = pa.schema(
        [
            ("meter_code", pa.string()),
            ("ts", pa.string()),
            ("value", pa.float64()),
            ("unit", pa.string()),
            ("flag", pa.string()),
        ]
    )
    codes = pa.array([f"E{i // 20:04d}-U01-M{i % 20:02d}" for i in range(6000)])
    stamps = pa.array(
        [f"2025-01-01T{h:02d}:{m:02d}:00+08:00" for h in range(24) for m in (0, 15, 30, 45)]
    )
    units, flags = pa.array(["kWh", "t", "m3"]), pa.array([None, "N"], pa.string())
    started = time.perf_counter()
    csv_fh = (out / "readings.csv").open("wb") if fmt in ("csv", "both") else None
    csv = (
        pacsv.CSVWriter(
            csv_fh,
            schema,
            write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )
        if csv_fh
        else None
    )
    parquet = (
        pq.ParquetWriter(out / "readings.parquet", schema, compression="zstd")
        if fmt in ("parquet", "both")
        else None
    )
    per_day = rows // days
    for d in range(days):
        n = per_day if d < days - 1 else rows - per_day * (days - 1)
        table = pa.Table.from_arrays(
            [
                codes.take(pa.array(rng.integers(0, len(codes), n))),
                stamps.take(pa.array(rng.integers(0, len(stamps), n))),
                pa.array(np.round(rng.random(n) * 1e4, 3)),
                units.take(pa.array(rng.integers(0, 3, n))),
                flags.take(pa.array(rng.integers(0, 2, n))),
            ],
            schema=schema,
        )
        if csv is not None:
            csv.write_table(table)
        if parquet is not None:
            parquet.write_table(table)
    if csv is not None:
        csv.close()
        csv_fh.close()  # type: ignore[union-attr]
    if parquet is not None:
        parquet.close()
    return {"rows": rows, "elapsed_s": time.perf_counter() - started, "peak_rss_mb": _peak_rss_mb()}


def _run_child(args: list[str]) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=300)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 90])
    parser.add_argument("--format", dest="fmt", default="both", choices=["csv", "parquet", "both"])
    parser.add_argument("--child", choices=["simulate", "baseline"])
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child == "simulate":
        print(json.dumps(child_simulate(args.enterprises, args.days[0], args.fmt, args.out)))
        return 0
    if args.child == "baseline":
        print(json.dumps(child_baseline(args.rows, args.days[0], args.fmt, args.out)))
        return 0
    result: dict[str, float] = {"enterprises": args.enterprises}
    for days in args.days:
        with tempfile.TemporaryDirectory() as tmp:
            sim = _run_child(
                [
                    "simulate",
                    "--enterprises",
                    str(args.enterprises),
                    "--days",
                    str(days),
                    "--format",
                    args.fmt,
                    "--out",
                    tmp,
                ]
            )
        with tempfile.TemporaryDirectory() as tmp:
            base = _run_child(
                [
                    "baseline",
                    "--rows",
                    str(int(sim["rows"])),
                    "--days",
                    str(days),
                    "--format",
                    args.fmt,
                    "--out",
                    tmp,
                ]
            )
        sim_rate = sim["rows"] / sim["elapsed_s"]
        base_rate = base["rows"] / base["elapsed_s"]
        print(
            f"{days:>3} days: {int(sim['rows']):>11,} rows in {sim['elapsed_s']:6.1f} s = "
            f"{sim_rate:>10,.0f} rows/s, peak RSS {sim['peak_rss_mb']:6.0f} MB | baseline "
            f"{base_rate:>10,.0f} rows/s, peak RSS {base['peak_rss_mb']:6.0f} MB | ratio "
            f"{sim_rate / base_rate:.2f}"
        )
        result |= {
            f"rows_{days}d": sim["rows"],
            f"rows_per_s_{days}d": round(sim_rate),
            f"peak_rss_mb_{days}d": round(sim["peak_rss_mb"], 1),
            f"baseline_rows_per_s_{days}d": round(base_rate),
            f"baseline_peak_rss_mb_{days}d": round(base["peak_rss_mb"], 1),
            f"ratio_{days}d": round(sim_rate / base_rate, 3),
        }
    if len(args.days) >= 2:
        lo, hi = args.days[0], args.days[-1]
        result["rss_growth_ratio"] = round(
            result[f"peak_rss_mb_{hi}d"] / result[f"peak_rss_mb_{lo}d"], 3
        )
        result["baseline_rows_per_s"] = result[f"baseline_rows_per_s_{lo}d"]
    print(f"RESULT {json.dumps(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
