"""Archiving old months of ``readings`` to Parquet (PostgreSQL, partitioned table).

``kilnwatch db archive --before YYYY-MM --to DIR`` takes each monthly partition older than
the month given (months held by the DEFAULT partition first get a partition of their own),
and for each:

1. writes its rows, ordered by (meter, ts, version), to ``DIR/readings_YYYY_MM.parquet`` (a
   temporary name first, renamed when complete), in row groups of :data:`ARCHIVE_CHUNK_ROWS`;
2. reads the file back and compares its row count, the sums of ``meter_id`` and ``version``,
   the first and last ``ts`` and the sum of ``value`` with the same figures computed by the
   database on the partition;
3. only then detaches and drops the partition, in the same transaction as the figures were
   read (the partition is locked against writers meanwhile);
4. records the file, its SHA-256 and those figures in ``DIR/manifest.json`` (replaced
   atomically); the caller commits the drop.

A month whose check fails raises :class:`~kilnwatch.errors.ArchiveError` and keeps its
partition. Analysis reads the archive beside the live table through
:func:`kilnwatch.analytics.archive.read_readings`; rollups stay in the database, so pages and
reports do not need the archive.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from sqlalchemy import Connection, text

from kilnwatch.errors import ArchiveError
from kilnwatch.store.partitions import (
    PARENT,
    default_months,
    ensure_months,
    forget,
    is_partitioned,
    monthly_partitions,
    partition_name,
)

MANIFEST = "manifest.json"
ARCHIVE_CHUNK_ROWS = 500_000
"""Rows fetched per round trip and written per Parquet row group."""
SCHEMA = pa.schema(
    [
        ("meter_id", pa.int32()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("version", pa.int16()),
        ("value", pa.float64()),
        ("flag", pa.string()),
        ("source", pa.int16()),
        ("batch_id", pa.int64()),
        ("received_at", pa.timestamp("us", tz="UTC")),
    ]
)
_COLUMNS = ", ".join(SCHEMA.names)
VALUE_REL_TOLERANCE = 1e-12
"""Relative difference allowed between the two sums of ``value`` (float sums in another
order); every other figure must be equal."""


@dataclass(frozen=True)
class ArchivedMonth:
    """One month's file in the archive and the figures it was checked against."""

    month: str  # YYYY-MM
    file: str
    rows: int
    sha256: str
    sum_meter_id: int
    sum_version: int
    sum_value: float
    first_ts: str | None
    last_ts: str | None
    archived_at: str


def archive_file(month: date) -> str:
    """The file name of ``month``'s archive, e.g. ``readings_2025_03.parquet``."""
    return f"{partition_name(month)}.parquet"


def read_manifest(folder: Path) -> dict[str, ArchivedMonth]:
    """The months in the archive at ``folder`` by ``YYYY-MM`` (empty when there is none)."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {m["month"]: ArchivedMonth(**m) for m in data["months"]}


def _write_manifest(folder: Path, months: dict[str, ArchivedMonth]) -> None:
    body = {"table": PARENT, "months": [asdict(months[k]) for k in sorted(months)]}
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _figures_sql(table: str) -> str:
    return (
        f"SELECT count(*), COALESCE(sum(meter_id), 0), COALESCE(sum(version), 0), "
        f"COALESCE(sum(value), 0), min(ts), max(ts) FROM {table}"
    )


def _db_figures(conn: Connection, table: str) -> tuple[int, int, int, float, Any, Any]:
    n, meters, versions, values, first, last = conn.execute(text(_figures_sql(table))).one()
    return int(n), int(meters), int(versions), float(values), first, last


def _file_figures(path: Path) -> tuple[int, int, int, float, Any, Any]:
    frame = pl.scan_parquet(path).select(
        pl.len(),
        pl.col("meter_id").cast(pl.Int64).sum(),
        pl.col("version").cast(pl.Int64).sum(),
        pl.col("value").sum(),
        pl.col("ts").min().alias("first_ts"),
        pl.col("ts").max().alias("last_ts"),
    )
    n, meters, versions, values, first, last = frame.collect().row(0)
    return int(n), int(meters), int(versions), float(values or 0.0), first, last


def _write_parquet(conn: Connection, table: str, path: Path) -> None:
    """The rows of ``table`` into ``path`` (via a temporary file), streamed in chunks."""
    tmp = path.with_name(f".{path.name}.tmp")
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor(name=f"kw_archive_{table}") as cursor, pq.ParquetWriter(tmp, SCHEMA) as out:
        cursor.execute(f"SELECT {_COLUMNS} FROM {table} ORDER BY meter_id, ts, version")
        while rows := cursor.fetchmany(ARCHIVE_CHUNK_ROWS):
            columns = list(zip(*rows, strict=True))
            out.write_table(pa.table(columns, schema=SCHEMA))
    os.replace(tmp, path)


def _same(db: tuple[Any, ...], file: tuple[Any, ...]) -> bool:
    n, meters, versions, values, first, last = db
    fn, fmeters, fversions, fvalues, ffirst, flast = file
    return (n, meters, versions, first, last) == (
        fn,
        fmeters,
        fversions,
        ffirst,
        flast,
    ) and math.isclose(values, fvalues, rel_tol=VALUE_REL_TOLERANCE, abs_tol=1e-9)


def archive_month(conn: Connection, month: date, folder: Path) -> ArchivedMonth:
    """Write ``month``'s partition to the archive, check it, record it, drop the partition
    (in the caller's transaction)."""
    table = partition_name(month)
    conn.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))  # no writer until the drop
    path = folder / archive_file(month)
    _write_parquet(conn, table, path)
    db, file = _db_figures(conn, table), _file_figures(path)
    if not _same(db, file):
        path.unlink()
        raise ArchiveError(
            f"archive of {month:%Y-%m} read back {file[:4]}, the database holds {db[:4]}; "
            "the partition is kept"
        )
    n, meters, versions, values, first, last = db
    entry = ArchivedMonth(
        month=f"{month:%Y-%m}", file=path.name, rows=n, sha256=sha256_of(path),
        sum_meter_id=meters, sum_version=versions, sum_value=values,
        first_ts=None if first is None else first.astimezone(UTC).isoformat(),
        last_ts=None if last is None else last.astimezone(UTC).isoformat(),
        archived_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    conn.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {table}"))
    conn.execute(text(f"DROP TABLE {table}"))
    months = read_manifest(folder)  # last: a failure before it rolls the drop back
    months[entry.month] = entry
    _write_manifest(folder, months)
    forget(month)
    return entry


def archive_before(conn: Connection, before: date, folder: Path) -> list[ArchivedMonth]:
    """Archive every month before ``before`` (see the module docstring); nothing on SQLite
    or an unpartitioned table. Months already in the archive's manifest are refused (their
    file would be overwritten): archive late rows of such a month to another folder."""
    if not is_partitioned(conn):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    ensure_months(conn, [m for m in default_months(conn) if m < before])
    done = read_manifest(folder)
    out = []
    for month in monthly_partitions(conn):
        if month >= before:
            continue
        if f"{month:%Y-%m}" in done:
            raise ArchiveError(
                f"{month:%Y-%m} is already in the archive at {folder}; archive its newer rows "
                "to another folder"
            )
        out.append(archive_month(conn, month, folder))
    return out


def check_archive(folder: Path) -> list[str]:
    """Problems of the archive at ``folder``: a missing file, a checksum or a row count that
    differs from the manifest (empty: all good)."""
    problems = []
    for key, entry in read_manifest(folder).items():
        path = folder / entry.file
        if not path.exists():
            problems.append(f"{key}: {entry.file} is missing")
        elif sha256_of(path) != entry.sha256:
            problems.append(f"{key}: {entry.file} does not match its checksum")
        elif _file_figures(path)[0] != entry.rows:
            problems.append(f"{key}: {entry.file} does not hold {entry.rows} rows")
    return problems
