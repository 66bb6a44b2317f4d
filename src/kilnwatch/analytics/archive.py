"""Readings over the live table and the Parquet archive together (``kilnwatch db archive``).

:func:`read_readings` is the one way analysis reads readings that may be archived: the rows
of the live ``readings`` table (SQL) and those of the archive's monthly Parquet files
(Polars, lazily: only the months overlapping the range are opened, and the meter and time
filters are pushed down to the row groups, which are ordered by meter) are put together and
the latest version of each (meter, ts) is kept. A month archived and later given late
readings has rows in both: the higher version wins, and at an equal version the live row.
Used by ``kilnwatch export readings --archive DIR`` (:mod:`kilnwatch.reports.export`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.store.archive import read_manifest
from kilnwatch.store.models import Reading

UTC_US = pl.Datetime("us", "UTC")
COLUMNS: dict[str, pl.DataType] = {
    "meter_id": pl.Int64(),
    "ts": UTC_US,
    "version": pl.Int64(),
    "value": pl.Float64(),
    "flag": pl.Utf8(),
    "source": pl.Int64(),
}


def _live(
    session: Session, meter_ids: Sequence[int] | None, start: datetime, end: datetime
) -> pl.DataFrame:
    stmt = select(
        Reading.meter_id, Reading.ts, Reading.version, Reading.value, Reading.flag,
        Reading.source,
    ).where(Reading.ts >= start, Reading.ts < end)  # fmt: skip
    if meter_ids is not None:
        stmt = stmt.where(Reading.meter_id.in_(list(meter_ids)))
    rows = session.execute(stmt).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=COLUMNS, orient="row")


def _month(key: str) -> date:
    return date(int(key[:4]), int(key[5:7]), 1)


def archived_files(archive: Path, start: datetime, end: datetime) -> list[Path]:
    """The archive's files of the UTC months overlapping [start, end)."""
    first = date(start.astimezone(UTC).year, start.astimezone(UTC).month, 1)
    out = []
    for key, entry in sorted(read_manifest(archive).items()):
        month = _month(key)
        if first <= month and datetime(month.year, month.month, 1, tzinfo=UTC) < end:
            out.append(archive / entry.file)
    return out


def _archived(
    archive: Path, meter_ids: Sequence[int] | None, start: datetime, end: datetime
) -> pl.DataFrame:
    files = archived_files(archive, start, end)
    if not files:
        return pl.DataFrame(schema=COLUMNS)
    lazy = pl.scan_parquet(files).filter(
        (pl.col("ts") >= start.astimezone(UTC)) & (pl.col("ts") < end.astimezone(UTC))
    )
    if meter_ids is not None:
        lazy = lazy.filter(pl.col("meter_id").is_in(list(meter_ids)))
    return lazy.select(list(COLUMNS)).collect().cast(COLUMNS)  # type: ignore[arg-type]


def read_readings(
    session: Session,
    meter_ids: Sequence[int] | None,
    start: datetime,
    end: datetime,
    archive: Path | None = None,
) -> pl.DataFrame:
    """The latest version of every reading of ``meter_ids`` (all meters when None) with
    ``start <= ts < end``, from the live table and, when given, the archive at ``archive``;
    columns :data:`COLUMNS`, sorted by meter and time."""
    live = _live(session, meter_ids, start, end).with_columns(pl.lit(1).alias("_live"))
    parts = [live]
    if archive is not None:
        parts.append(
            _archived(archive, meter_ids, start, end).with_columns(pl.lit(0).alias("_live"))
        )
    both = pl.concat(parts)
    latest = both.sort("meter_id", "ts", "version", "_live").unique(
        ["meter_id", "ts"], keep="last", maintain_order=True
    )
    return latest.drop("_live")
