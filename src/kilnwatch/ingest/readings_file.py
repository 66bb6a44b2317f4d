"""``kilnwatch import readings FILE``: readings CSV or Parquet (docs/formats.md), in chunks.

The file is streamed in chunks through the one pipeline. Without ``skip_invalid`` the import
is all-or-nothing: every faulty row is reported (file, row, field, reason) and
:class:`~kilnwatch.errors.ImportRejected` is raised, so the caller's transaction rolls back.
With ``skip_invalid`` the valid rows are stored and the faulty ones go to the dead letters.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.ingest.meters import MeterCache
from kilnwatch.ingest.payloads import MALFORMED, check_columns, reading_from_mapping
from kilnwatch.ingest.pipeline import DeliveryMeta, ReadingCounts, ingest_frame
from kilnwatch.ingest.stamps import DEFAULT_CONVENTION, Convention, IntervalEnds
from kilnwatch.ingest.tables.text import (
    TextEncoding,
    csv_records,
    decoded_blocks,
    file_encoding,
    header_line,
    sniff_separator,
    transcode_to_utf8,
)
from kilnwatch.ingest.validate import RawReading, ValidationPolicy
from kilnwatch.ingest.vectorised import parse_raw, raw_frame_from_table
from kilnwatch.store.partitions import ensure_for_months, month_start
from kilnwatch.store.rollups.deferred import DeferredRollups

DEFAULT_CHUNK_ROWS = 250_000
MAX_REPORTED_ERRORS = 1000
READ_AHEAD = 1
"""Chunks read and parsed ahead of the one being stored (each costs a chunk's memory)."""

T = TypeVar("T")

ProgressFn = Callable[[int], None]


@dataclass
class FileImportReport(ReadingCounts):
    """Counts of one file import: its rows, their outcomes and the text encoding of a CSV
    ("gb18030 (detected)"; None for Parquet)."""

    rows: int = 0
    encoding: str | None = None
    moved_to_interval_end: int = 0


def _clean_names(names: list[str]) -> list[str]:
    return [n.lstrip("\ufeff").strip() for n in names]


def _csv_tables(path: Path, size: int, separator: str, name: str) -> Iterator[pl.DataFrame]:
    """Chunks of a UTF-8 readings CSV, every field as text ("" when empty, like ``csv``).

    Lines with no field at all are skipped, as :class:`csv.DictReader` does. ``name`` is the
    file as the user named it (``path`` may be its UTF-8 copy).
    """
    lazy = pl.scan_csv(path, infer_schema=False, empty_string_is_null=False, separator=separator,
                       truncate_ragged_lines=True, with_column_names=_clean_names)  # fmt: skip
    check_columns(lazy.collect_schema().names(), name)
    for chunk in lazy.collect_batches(chunk_size=size):
        blank = pl.all_horizontal(pl.all().fill_null("") == "")
        table = chunk.filter(~blank)
        if table.height:
            yield table


def _parquet_tables(path: Path, size: int) -> Iterator[pl.DataFrame]:
    lazy = pl.scan_parquet(path)
    check_columns(lazy.collect_schema().names(), str(path))
    for chunk in lazy.collect_batches(chunk_size=size):
        if chunk.height:
            yield chunk


def _csv_fault(path: Path, separator: str, name: str, exc: pl.exceptions.PolarsError) -> InputError:
    """The fault the columnar reader met, located by a strict UTF-8 pass (a file detected as
    UTF-8 from its head may hold other bytes further on), then of the CSV module."""
    try:
        for _ in decoded_blocks(path, TextEncoding("utf-8"), name):
            pass
        with path.open(encoding="utf-8", newline="") as f:
            for _ in csv_records(f, name, separator):
                pass
    except InputError as located:
        at = located.location
        return InputError(located.reason, file=at.file, row=at.row, field=at.field,
                          code=MALFORMED)  # fmt: skip
    return InputError(f"cannot read the file: {exc}", file=name, code=MALFORMED)


def _utf8_csv_tables(
    path: Path, size: int, encoding: TextEncoding, name: str
) -> Iterator[pl.DataFrame]:
    """Chunks of a CSV in any supported encoding (others are re-encoded to a UTF-8 copy
    first, in blocks); a parse fault is reported with file, row and field."""
    with tempfile.TemporaryDirectory(prefix="kilnwatch-import-") as tmp:
        utf8 = path
        if not encoding.is_utf8:
            utf8 = Path(tmp) / "utf8.csv"
            transcode_to_utf8(path, encoding, utf8)
        separator = sniff_separator(header_line(utf8, TextEncoding("utf-8")))
        try:
            yield from _csv_tables(utf8, size, separator, name)
        except pl.exceptions.PolarsError as exc:
            raise _csv_fault(utf8, separator, name, exc) from None


def read_tables(
    path: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: TextEncoding | None = None
) -> Iterator[pl.DataFrame]:
    """Chunks of a readings CSV (any encoding of docs/formats.md, "Encodings"; detected
    unless ``encoding``) or Parquet file as Polars frames (columns of docs/formats.md)."""
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    if path.suffix.lower() == ".parquet":
        return _parquet_tables(path, chunk_rows)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        raise InputError(
            "a workbook is not a readings file: save the sheet as CSV, or import it through a "
            "column mapping (kilnwatch mapping apply)",
            file=str(path),
        )
    return _utf8_csv_tables(path, chunk_rows, file_encoding(path, encoding), str(path))


def _row_reader(table: pl.DataFrame, first_row_no: int) -> Callable[[int], RawReading]:
    """``row_idx -> RawReading`` of a chunk (the row as received, for per-row decisions)."""

    def raw_of(i: int) -> RawReading:
        item: dict[str, Any] = table.row(i, named=True)
        ts = item.get("ts")
        if isinstance(ts, datetime):
            item["ts"] = ts.isoformat()
        return reading_from_mapping(item, first_row_no + i)

    return raw_of


def read_readings(path: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[list[RawReading]]:
    """Chunks of rows of a readings CSV or Parquet file as :class:`RawReading` lists."""
    row_no = 1
    for table in read_tables(path, chunk_rows):
        raw_of = _row_reader(table, row_no)
        yield [raw_of(i) for i in range(table.height)]
        row_no += table.height


def _chunks(path: Path, chunk_rows: int, encoding: TextEncoding | None) -> Iterator[pl.DataFrame]:
    try:
        yield from read_tables(path, chunk_rows, encoding)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"cannot read the file: {exc}", file=str(path), code=MALFORMED) from None


@dataclass(frozen=True)
class _Chunk:
    table: pl.DataFrame
    raw: pl.DataFrame
    first_row_no: int


def _parsed_chunks(path: Path, chunk_rows: int, encoding: TextEncoding | None) -> Iterator[_Chunk]:
    """The file's chunks with their raw frames, timestamps and numbers parsed (no store)."""
    row_no = 1
    for table in _chunks(path, chunk_rows, encoding):
        yield _Chunk(table, parse_raw(raw_frame_from_table(table, row_no, 0)), row_no)
        row_no += table.height


def file_months(
    path: Path, encoding: TextEncoding | None = None, latest: datetime | None = None
) -> list[date]:
    """The UTC months the file's readable timestamps fall in, each also one day later (an
    interval-start stamp is moved to its interval's end), in order; timestamps after
    ``latest`` (refused as future) do not count.

    Only months that hold rows: a stray year in one row adds one month, not the years between.
    A Parquet ``ts`` column of date-times is read alone; otherwise the chunks are parsed as
    the import parses them (unparseable rows do not count)."""
    lazy = pl.scan_parquet(path) if path.suffix.lower() == ".parquet" else None
    dtype = lazy.collect_schema().get("ts") if lazy is not None else None
    if lazy is not None and isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        stamps: Iterable[pl.Series] = [
            lazy.select(pl.col("ts").dt.convert_time_zone("UTC")).collect().get_column("ts")
        ]
    else:
        chunks = _parsed_chunks(path, DEFAULT_CHUNK_ROWS, encoding)
        stamps = (c.raw.get_column("ts") for c in chunks)  # one chunk in memory at a time
    months: set[date] = set()
    for ts in stamps:
        ts = ts.drop_nulls()
        if latest is not None:
            ts = ts.filter(ts <= latest)
        for shifted in (ts, ts + timedelta(days=1)):
            months.update(month_start(d) for d in shifted.dt.date().unique().to_list())
    return sorted(months)


def read_ahead(items: Iterator[T], depth: int = READ_AHEAD) -> Iterator[T]:
    """``items``, produced by a thread up to ``depth`` ahead of the consumer.

    Polars reads and parses with the GIL released, so the next chunk is read while the
    database stores this one. An exception of the producer is raised here, at the item it
    replaced; leaving early (an error while storing) stops the producer and closes
    ``items`` (its temporary files go).
    """
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
            put("end", None)
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer, raised there)
            put("error", exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="kilnwatch-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def import_readings_file(
    session: Session,
    path: Path,
    *,
    skip_invalid: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    policy: ValidationPolicy,
    on_progress: ProgressFn | None = None,
    now: datetime | None = None,
    encoding: TextEncoding | None = None,
    ts_convention: Convention = DEFAULT_CONVENTION,
    per_chunk_rollups: bool = False,
) -> FileImportReport:
    """Import a readings file in the session's transaction (the caller commits).

    Chunks of ``chunk_rows`` go through the vectorised pipeline
    (:func:`~kilnwatch.ingest.pipeline.ingest_frame`); the meter table is read once per run.
    ``encoding`` forces the text encoding of a CSV (else detected, and stated in the report).
    ``ts_convention``: what ``ts`` stamps in rows without a ``ts_convention`` of their own,
    the interval's ``end`` (default) or ``start`` (:mod:`kilnwatch.ingest.stamps`).

    The day and month rollups and the CEMS hours of meters whose rows are appended are
    written once for the file, after its last chunk
    (:class:`~kilnwatch.store.rollups.deferred.DeferredRollups`), not in every chunk;
    ``per_chunk_rollups`` writes them after each chunk instead (the same rows; slower, and in
    one transaction every rewrite leaves a dead row version).
    """
    now = now or datetime.now(UTC)
    cache = MeterCache(policy)
    report = FileImportReport()
    stamps = IntervalEnds(ts_convention, str(path))
    if path.suffix.lower() != ".parquet" and path.is_file():
        encoding = file_encoding(path, encoding)
        report.encoding = str(encoding)
    errors: list[InputError] = []
    deferred = None if per_chunk_rollups else DeferredRollups()
    if session.get_bind().dialect.name == "postgresql" and path.is_file():
        # every month's partition first: once this transaction has touched readings, a
        # partition attached for a month met in a later chunk would wait for it (DEFAULT)
        latest = now + timedelta(seconds=policy.future_tolerance_s)
        ensure_for_months(session.connection(), file_months(path, encoding, latest))
    for chunk in read_ahead(_parsed_chunks(path, chunk_rows, encoding)):
        table = chunk.table
        meta = DeliveryMeta("file", str(path), table.height)
        cache.update(session, chunk.raw.get_column("meter_code").drop_nulls().unique().to_list())
        raw = stamps.apply(chunk.raw, table, cache.meters, chunk.first_row_no)
        result = ingest_frame(session, [meta], raw, _row_reader(table, chunk.first_row_no),
                              policy=policy, now=now, dead_letters=skip_invalid,
                              cache=cache, deferred=deferred)[0]  # fmt: skip
        report.rows += table.height
        report.add(result)
        room = MAX_REPORTED_ERRORS - len(errors)
        errors.extend(
            InputError(r.message, file=str(path), row=r.row_no, field=r.field, code=r.code)
            for r in result.rejected[: max(room, 0)]
        )
        if on_progress is not None:
            on_progress(table.height)
    if errors and not skip_invalid:
        raise ImportRejected(errors, file=str(path))
    if deferred is not None:
        deferred.flush(session)
    report.moved_to_interval_end = stamps.moved
    return report
