"""``kilnwatch import readings FILE``: readings CSV or Parquet (docs/formats.md), in chunks.

The file is streamed in chunks through the one pipeline. Without ``skip_invalid`` the import
is all-or-nothing: every faulty row is reported (file, row, field, reason) and
:class:`~kilnwatch.errors.ImportRejected` is raised, so the caller's transaction rolls back.
With ``skip_invalid`` the valid rows are stored and the faulty ones go to the dead letters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.sources import check_columns, iter_csv_readings, reading_from_mapping
from kilnwatch.ingest.validate import RawReading, ValidationPolicy

DEFAULT_CHUNK_ROWS = 50_000
MAX_REPORTED_ERRORS = 1000

ProgressFn = Callable[[int], None]


@dataclass
class FileImportReport:
    """Counts of one file import."""

    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    corrections: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def _chunks(rows: Iterator[RawReading], size: int) -> Iterator[list[RawReading]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _csv_rows(path: Path) -> Iterator[RawReading]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from iter_csv_readings(handle, file=str(path))


def _parquet_rows(path: Path, size: int) -> Iterator[RawReading]:
    import polars as pl

    lazy = pl.scan_parquet(path)
    check_columns(lazy.collect_schema().names(), str(path))
    offset = 0
    while True:
        frame = lazy.slice(offset, size).collect()
        if frame.height == 0:
            return
        for i, item in enumerate(frame.iter_rows(named=True), start=offset + 1):
            ts = item.get("ts")
            if isinstance(ts, datetime):
                item["ts"] = ts.isoformat()
            yield reading_from_mapping(item, i)
        offset += frame.height


def read_readings(path: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[list[RawReading]]:
    """Chunks of rows of a readings CSV or Parquet file."""
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    rows = _parquet_rows(path, chunk_rows) if path.suffix.lower() == ".parquet" else _csv_rows(path)
    return _chunks(rows, chunk_rows)


def import_readings_file(
    session: Session,
    path: Path,
    *,
    skip_invalid: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    policy: ValidationPolicy | None = None,
    on_progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> FileImportReport:
    """Import a readings file in the session's transaction (the caller commits)."""
    report = FileImportReport()
    errors: list[InputError] = []
    for chunk in read_readings(path, chunk_rows):
        result = ingest_readings(session, chunk, "file", str(path), policy=policy, now=now,
                                 dead_letters=skip_invalid)  # fmt: skip
        report.rows += len(chunk)
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        report.corrections += result.corrections
        report.rejected += len(result.rejected)
        for code, n in result.reasons().items():
            report.reasons[code] = report.reasons.get(code, 0) + n
        room = MAX_REPORTED_ERRORS - len(errors)
        errors.extend(
            InputError(r.message, file=str(path), row=r.row_no, field=r.field, code=r.code)
            for r in result.rejected[: max(room, 0)]
        )
        if on_progress is not None:
            on_progress(len(chunk))
    if errors and not skip_invalid:
        raise ImportRejected(errors, file=str(path))
    return report
