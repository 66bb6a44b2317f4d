"""Streaming writers: small CSV files row by row, readings chunk by chunk (CSV and Parquet).

Readings never sit in memory for more than one day: each day becomes one Arrow table, written
as CSV (pyarrow's C++ writer, no quoting) and/or as one Parquet row group.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from kilnwatch.sim.config import SimParams
from kilnwatch.sim.model import Province
from kilnwatch.sim.readings import FLAG_CODES, DayData
from kilnwatch.sim.tables import COLUMNS


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> int:
    """Write a whole small CSV file; returns the row count."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n", extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


class RowsFile:
    """A CSV file appended to as rows come."""

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.fh: IO[str] = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.DictWriter(self.fh, fieldnames=columns, lineterminator="\n")
        self.writer.writeheader()
        self.rows = 0

    def write(self, rows: list[dict[str, str]]) -> None:
        self.writer.writerows(rows)
        self.rows += len(rows)

    def close(self) -> None:
        self.fh.close()


STREAM_STAMPS = 11


def start_stamped_meters(params: SimParams, province: Province) -> np.ndarray:
    """Per meter, 1 when its export stamps readings at their interval's start (a share
    ``start_stamped_meter_fraction`` of the interval and counter meters), else 0."""
    rng = np.random.default_rng([params.seed, STREAM_STAMPS])
    draws = rng.random(len(province.meters))
    share = params.start_stamped_meter_fraction
    chosen = [
        m.measurement in ("interval", "counter") and draws[m.idx] < share for m in province.meters
    ]
    return np.array(chosen, dtype=np.int64)


class ReadingsWriter:
    """Writes day chunks of readings to ``readings.csv`` and/or ``readings.parquet``."""

    def __init__(self, out_dir: Path, params: SimParams, province: Province) -> None:
        self.params = params
        self.tz = timezone(timedelta(hours=params.utc_offset_h))
        self.t0 = datetime(params.start.year, params.start.month, params.start.day, tzinfo=self.tz)
        self.t0_epoch = int(self.t0.timestamp())
        self.step_s = params.interval_min * 60
        self.codes = pa.array([m.code for m in province.meters], pa.string())
        self.start_stamped = start_stamped_meters(params, province)
        self.conventions = pa.array(
            ["start" if s else "" for s in self.start_stamped.tolist()], pa.string()
        )
        stamps = bool(self.start_stamped.any())
        self.units = pa.array([m.uom for m in province.meters], pa.string())
        self.flags = pa.array([f or None for f in FLAG_CODES], pa.string())
        ts_type = pa.timestamp("s", tz=f"{params.utc_offset_h:+03d}:00")
        self.schema = pa.schema(
            [
                ("meter_code", pa.string()),
                ("ts", pa.string()),
                ("value", pa.float64()),
                ("unit", pa.string()),
                ("flag", pa.string()),
                *([("ts_convention", pa.string())] if stamps else []),
            ]
        )
        self.pq_schema = self.schema.set(1, pa.field("ts", ts_type))
        self.csv: pacsv.CSVWriter | None = None
        self.csv_fh: IO[bytes] | None = None
        self.parquet: pq.ParquetWriter | None = None
        self.rows = 0
        if params.output_format in ("csv", "both"):
            self.csv_fh = (out_dir / "readings.csv").open("wb")
            header = (*COLUMNS["readings"], *(["ts_convention"] if stamps else []))
            self.csv_fh.write((",".join(header) + "\n").encode())
            options = pacsv.WriteOptions(include_header=False, quoting_style="none")
            self.csv = pacsv.CSVWriter(self.csv_fh, self.schema, write_options=options)
        if params.output_format in ("parquet", "both"):
            self.parquet = pq.ParquetWriter(
                out_dir / "readings.parquet", self.pq_schema, compression="zstd"
            )

    def _ts_text(self, ks: np.ndarray) -> pa.Array:
        uniq, inverse = np.unique(ks, return_inverse=True)
        text = [(self.t0 + timedelta(seconds=int(k) * self.step_s)).isoformat() for k in uniq]
        return pa.array(text, pa.string()).take(pa.array(inverse.astype(np.int64)))

    def write_day(self, day: DayData, first_rows: tuple[np.ndarray, np.ndarray] | None) -> int:
        """Write one day's readings in delivery order; ``first_rows`` = initial registers."""
        meter_idx, t_idx = np.nonzero(day.present.T)[::-1]
        parts_m = [meter_idx]
        parts_k = [day.kcols[t_idx]]
        parts_v = [day.values[meter_idx, t_idx]]
        parts_f = [day.flags[meter_idx, t_idx]]
        parts_when = [day.kcols[t_idx].astype(np.float64)]
        if first_rows is not None:
            m0, v0 = first_rows
            parts_m.insert(0, m0)
            parts_k.insert(0, np.zeros(m0.size, dtype=np.int64))
            parts_v.insert(0, v0)
            parts_f.insert(0, np.zeros(m0.size, dtype=np.int8))
            parts_when.insert(0, np.full(m0.size, -1.0))
        for m, k, v, f, when in day.extra:
            parts_m.append(m)
            parts_k.append(k)
            parts_v.append(v)
            parts_f.append(f)
            parts_when.append(when)
        m_all = np.concatenate(parts_m).astype(np.int64)
        k_all = np.concatenate(parts_k).astype(np.int64)
        when_all = np.concatenate(parts_when)
        order = np.lexsort((m_all, when_all))
        m_all, k_all = m_all[order], k_all[order]
        k_all = k_all - self.start_stamped[m_all]  # an interval-start stamp: one step earlier
        idx = pa.array(m_all)
        columns = [
            self.codes.take(idx),
            None,
            pa.array(np.concatenate(parts_v)[order]),
            self.units.take(idx),
            self.flags.take(pa.array(np.concatenate(parts_f)[order].astype(np.int64))),
        ]
        if len(self.schema) > len(columns):
            columns.append(self.conventions.take(idx))
        if self.csv is not None:
            columns[1] = self._ts_text(k_all)
            self.csv.write_table(pa.Table.from_arrays(columns, schema=self.schema))
        if self.parquet is not None:
            epoch = pa.array(self.t0_epoch + k_all * self.step_s, pa.int64())
            columns[1] = epoch.cast(self.pq_schema.field("ts").type)
            self.parquet.write_table(pa.Table.from_arrays(columns, schema=self.pq_schema))
        self.rows += len(m_all)
        return len(m_all)

    def close(self) -> None:
        if self.csv is not None:
            self.csv.close()
        if self.csv_fh is not None:
            self.csv_fh.close()
        if self.parquet is not None:
            self.parquet.close()
