"""Bulk export of readings, rollups and results (findings, credibility scores), streamed.

Rows are selected by region (a GB/T 2260 prefix: ``37``, ``3703``, ``370305``), industry,
enterprise (USCC) or meter and a time range ``[start, end)``, always inside the caller's
jurisdiction (``store/repos/scope.py``), and read in chunks through a server-side cursor
(PostgreSQL; SQLite's cursor is lazy too), so memory stays flat in the size of the export.
Each kind names its columns with units (``unit`` for readings and rollups; ``_tce`` and
``_fraction`` suffixes for findings) and their Arrow types for Parquet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import ColumnElement, DateTime, Executable, and_, exists, select, type_coerce
from sqlalchemy.orm import Session, aliased

from kilnwatch.analytics.archive import read_readings
from kilnwatch.domain.identifiers import region_prefix
from kilnwatch.errors import InputError
from kilnwatch.identity import Principal
from kilnwatch.store.models import (
    CredibilityScore,
    Enterprise,
    FindingRecord,
    Meter,
    Reading,
    Rollup,
)
from kilnwatch.store.models.readings import SOURCE_NAMES
from kilnwatch.store.repos.scope import enterprise_scope
from kilnwatch.store.rollups.attribution import GRAINS

CHUNK_ROWS = 20_000
"""Rows per fetch and per Parquet row group: large enough for throughput, small for memory."""
KINDS = ("readings", "rollups", "findings", "credibility")
ARCHIVE_METERS = 200
"""Meters read together from the live table and the archive (memory: their rows of the range)."""
UTC_TS = pa.timestamp("us", tz="UTC")
Stamp = Callable[[Any], Any]
"""Wraps a timestamp column for the backend (see :func:`_stamp_for`)."""


@dataclass(frozen=True)
class ExportFilter:
    start: datetime
    end: datetime
    region: str | None = None
    industry: str | None = None
    enterprise_uscc: str | None = None
    meter_code: str | None = None
    grain: str = "hour"
    """Rollup grain: hour, day or month."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InputError("start and end need a UTC offset", field="start")
        if self.end <= self.start:
            raise InputError("end must be after start", field="end")
        if self.region is not None and not (
            self.region.isdigit() and len(self.region) in (2, 4, 6)
        ):
            raise InputError(f"{self.region!r} is not a region code prefix", field="city")
        if self.grain not in GRAINS:
            raise InputError(f"grain must be one of {', '.join(GRAINS)}", field="grain")


@dataclass(frozen=True)
class ExportColumn:
    name: str
    type: pa.DataType


@dataclass(frozen=True)
class Export:
    """A query's columns and its rows, chunk by chunk (tuples in column order)."""

    kind: str
    columns: tuple[ExportColumn, ...]
    chunks: Iterator[Sequence[tuple[object, ...]]]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.columns])


def _cols(*spec: tuple[str, pa.DataType]) -> tuple[ExportColumn, ...]:
    return tuple(ExportColumn(n, t) for n, t in spec)


READING_COLUMNS = _cols(
    ("meter_code", pa.string()), ("enterprise_uscc", pa.string()), ("region_code", pa.string()),
    ("industry", pa.string()), ("carrier", pa.string()), ("measurement", pa.string()),
    ("ts", UTC_TS), ("value", pa.float64()), ("unit", pa.string()), ("version", pa.int16()),
    ("flag", pa.string()), ("source", pa.string()),
)  # fmt: skip
ROLLUP_COLUMNS = _cols(
    ("meter_code", pa.string()), ("enterprise_uscc", pa.string()), ("region_code", pa.string()),
    ("industry", pa.string()), ("carrier", pa.string()), ("measurement", pa.string()),
    ("grain", pa.string()), ("period_start", UTC_TS), ("sum", pa.float64()),
    ("count", pa.int32()), ("min", pa.float64()), ("max", pa.float64()),
    ("unit", pa.string()), ("resets", pa.int32()), ("rollovers", pa.int32()),
)  # fmt: skip
FINDING_COLUMNS = _cols(
    ("id", pa.int64()), ("rule_code", pa.string()), ("enterprise_uscc", pa.string()),
    ("region_code", pa.string()), ("industry", pa.string()), ("meter_code", pa.string()),
    ("period", pa.string()), ("start_at", UTC_TS), ("end_at", UTC_TS),
    ("severity", pa.string()), ("status", pa.string()), ("message", pa.string()),
    ("magnitude_fraction", pa.float64()), ("magnitude_tce", pa.float64()),
    ("first_seen_at", UTC_TS), ("last_seen_at", UTC_TS),
)  # fmt: skip
CREDIBILITY_COLUMNS = _cols(
    ("enterprise_uscc", pa.string()), ("region_code", pa.string()), ("industry", pa.string()),
    ("period", pa.string()), ("score", pa.float64()), ("open_findings", pa.int32()),
    ("computed_at", UTC_TS),
)  # fmt: skip


def _enterprise_filter(principal: Principal, f: ExportFilter) -> ColumnElement[bool]:
    conditions = [enterprise_scope(principal)]
    if f.region:
        conditions.append(Enterprise.region_code.startswith(region_prefix(f.region.ljust(6, "0"))))
    if f.industry:
        conditions.append(Enterprise.industry == f.industry)
    if f.enterprise_uscc:
        conditions.append(Enterprise.uscc == f.enterprise_uscc.strip().upper())
    return and_(*conditions)


def _meter_filter(f: ExportFilter) -> ColumnElement[bool]:
    return Meter.code == f.meter_code if f.meter_code else and_(True)


def _readings_query(principal: Principal, f: ExportFilter, t: Stamp) -> Executable:
    later = aliased(Reading)
    newer = exists().where(
        later.meter_id == Reading.meter_id, later.ts == Reading.ts, later.version > Reading.version
    )
    return (
        select(
            Meter.code, Enterprise.uscc, Enterprise.region_code, Enterprise.industry,
            Meter.carrier, Meter.measurement, t(Reading.ts), Reading.value,
            Meter.unit_of_measure, Reading.version, Reading.flag, Reading.source,
        )
        .join(Meter, Meter.id == Reading.meter_id)
        .join(Enterprise, Enterprise.id == Meter.enterprise_id)
        .where(_enterprise_filter(principal, f), _meter_filter(f))
        .where(Reading.ts >= f.start, Reading.ts < f.end, ~newer)
        .order_by(Reading.meter_id, Reading.ts)
    )  # fmt: skip


def _rollups_query(principal: Principal, f: ExportFilter, t: Stamp) -> Executable:
    return (
        select(
            Meter.code, Enterprise.uscc, Enterprise.region_code, Enterprise.industry,
            Meter.carrier, Meter.measurement, Rollup.grain, t(Rollup.period_start), Rollup.sum,
            Rollup.count, Rollup.min, Rollup.max, Meter.unit_of_measure, Rollup.resets,
            Rollup.rollovers,
        )
        .join(Meter, Meter.id == Rollup.meter_id)
        .join(Enterprise, Enterprise.id == Meter.enterprise_id)
        .where(_enterprise_filter(principal, f), _meter_filter(f), Rollup.grain == f.grain)
        .where(Rollup.period_start >= f.start, Rollup.period_start < f.end)
        .order_by(Rollup.meter_id, Rollup.period_start)
    )  # fmt: skip


def _findings_query(principal: Principal, f: ExportFilter, t: Stamp) -> Executable:
    return (
        select(
            FindingRecord.id, FindingRecord.rule_code, Enterprise.uscc, Enterprise.region_code,
            Enterprise.industry, Meter.code, FindingRecord.period, t(FindingRecord.start_at),
            t(FindingRecord.end_at), FindingRecord.severity, FindingRecord.status,
            FindingRecord.message, FindingRecord.magnitude_fraction, FindingRecord.magnitude_tce,
            t(FindingRecord.first_seen_at), t(FindingRecord.last_seen_at),
        )
        .join(Enterprise, Enterprise.id == FindingRecord.enterprise_id)
        .outerjoin(Meter, Meter.id == FindingRecord.meter_id)
        .where(_enterprise_filter(principal, f), _meter_filter(f))
        .where(FindingRecord.start_at >= f.start, FindingRecord.start_at < f.end)
        .order_by(FindingRecord.id)
    )  # fmt: skip


def _credibility_query(principal: Principal, f: ExportFilter, t: Stamp) -> Executable:
    first, last = f"{f.start:%Y-%m}", f"{f.end:%Y-%m}"
    return (
        select(
            Enterprise.uscc, Enterprise.region_code, Enterprise.industry,
            CredibilityScore.period, CredibilityScore.score, CredibilityScore.open_findings,
            t(CredibilityScore.computed_at),
        )
        .join(Enterprise, Enterprise.id == CredibilityScore.enterprise_id)
        .where(_enterprise_filter(principal, f))
        .where(CredibilityScore.period >= first, CredibilityScore.period < last)
        .order_by(Enterprise.uscc, CredibilityScore.period)
    )  # fmt: skip


QUERIES = {
    "readings": (_readings_query, READING_COLUMNS),
    "rollups": (_rollups_query, ROLLUP_COLUMNS),
    "findings": (_findings_query, FINDING_COLUMNS),
    "credibility": (_credibility_query, CREDIBILITY_COLUMNS),
}


def _stamp_for(dialect: str) -> Stamp:
    """PostgreSQL gives ``timestamptz`` as aware datetimes: read them without the per-row
    Python conversion of :class:`UTCDateTime` (a third of the export time); SQLite stores text
    and keeps the conversion."""
    if dialect == "postgresql":
        return lambda column: type_coerce(column, DateTime(timezone=True))
    return lambda column: column


def _chunks(
    session: Session, kind: str, f: ExportFilter, principal: Principal, chunk_rows: int
) -> Iterator[Sequence[tuple[object, ...]]]:
    connection = session.connection().execution_options(stream_results=True, yield_per=chunk_rows)
    query, _ = QUERIES[kind]
    result = connection.execute(query(principal, f, _stamp_for(connection.dialect.name)))
    try:
        for partition in result.partitions(chunk_rows):
            rows = [tuple(r) for r in partition]
            if kind == "readings":  # the stored small integer as its name
                rows = [(*r[:-1], SOURCE_NAMES.get(r[-1], str(r[-1]))) for r in rows]
            yield rows
    finally:
        result.close()


def _meters_query(principal: Principal, f: ExportFilter) -> Executable:
    """The meters of a readings export with the columns every row repeats."""
    return (
        select(
            Meter.id, Meter.code, Enterprise.uscc, Enterprise.region_code, Enterprise.industry,
            Meter.carrier, Meter.measurement, Meter.unit_of_measure,
        )
        .join(Enterprise, Enterprise.id == Meter.enterprise_id)
        .where(_enterprise_filter(principal, f), _meter_filter(f))
        .order_by(Meter.id)
    )  # fmt: skip


def _archive_chunks(
    session: Session, f: ExportFilter, principal: Principal, chunk_rows: int, archive: Path
) -> Iterator[Sequence[tuple[object, ...]]]:
    """Readings from the live table and the archive (:func:`read_readings`), meters in
    batches of :data:`ARCHIVE_METERS`: the same rows and order as the live export."""
    meters = {m[0]: tuple(m[1:]) for m in session.execute(_meters_query(principal, f))}
    ids = list(meters)
    for first in range(0, len(ids), ARCHIVE_METERS):
        frame = read_readings(session, ids[first : first + ARCHIVE_METERS], f.start, f.end, archive)
        rows = []
        for meter_id, ts, version, value, flag, source in frame.iter_rows():
            code, uscc, region, industry, carrier, measurement, unit = meters[meter_id]
            rows.append((code, uscc, region, industry, carrier, measurement, ts, value, unit,
                         version, flag, SOURCE_NAMES.get(source, str(source))))  # fmt: skip
            if len(rows) == chunk_rows:
                yield rows
                rows = []
        if rows:
            yield rows


def export_rows(
    session: Session,
    principal: Principal,
    kind: str,
    f: ExportFilter,
    chunk_rows: int = CHUNK_ROWS,
    archive: Path | None = None,
) -> Export:
    """The rows of ``kind`` that ``principal`` may see under ``f``, as a lazy chunk iterator;
    readings with ``archive`` also from that archive of old months (``kilnwatch db
    archive``)."""
    if kind not in QUERIES:
        raise InputError(f"unknown export {kind!r}; use {', '.join(KINDS)}", field="kind")
    columns = QUERIES[kind][1]
    if archive is not None and kind == "readings":
        return Export(kind, columns, _archive_chunks(session, f, principal, chunk_rows, archive))
    return Export(kind, columns, _chunks(session, kind, f, principal, chunk_rows))


__all__ = ["CHUNK_ROWS", "KINDS", "Export", "ExportColumn", "ExportFilter", "export_rows"]
