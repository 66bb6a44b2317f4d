"""Streaming writers of bulk exports: CSV (UTF-8, ISO 8601 UTC timestamps) and Parquet (one
row group per chunk, written with pyarrow as the chunks arrive). Both yield bytes as they go,
so a file on disk and an HTTP response are the same loop and memory stays flat."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from kilnwatch.errors import InputError
from kilnwatch.reports.export import UTC_TS, Export

EXPORT_FORMATS = ("csv", "parquet")
EXPORT_MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def csv_stream(export: Export) -> Iterator[bytes]:
    """CSV with a header; timestamps as ISO 8601 in UTC, empty cells for missing values."""
    stamps = [i for i, c in enumerate(export.columns) if c.type == UTC_TS]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in export.columns])
    for chunk in export.chunks:
        for row in chunk:
            cells = list(row)
            for i in stamps:
                if (v := cells[i]) is not None:
                    cells[i] = v.astimezone(UTC).isoformat()  # type: ignore[attr-defined]
            writer.writerow(cells)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # the header of an export without rows
        yield buffer.getvalue().encode("utf-8")


class _Drain(io.RawIOBase):
    """A write-only sink whose bytes are taken out after each row group."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


def _batch(export: Export, rows: Sequence[tuple[object, ...]]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(export.columns)
    arrays = [pa.array(list(v), type=c.type) for c, v in zip(export.columns, columns, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=export.schema)


def parquet_stream(export: Export) -> Iterator[bytes]:
    sink = _Drain()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), export.schema, compression="zstd")
    try:
        for chunk in export.chunks:
            writer.write_batch(_batch(export, chunk), row_group_size=len(chunk) or None)
            if data := sink.take():
                yield data
    finally:
        writer.close()
    yield sink.take()


def export_stream(export: Export, fmt: str) -> Iterator[bytes]:
    """The export's bytes in ``fmt`` (csv or parquet), chunk by chunk."""
    if fmt == "csv":
        return csv_stream(export)
    if fmt == "parquet":
        return parquet_stream(export)
    raise InputError(f"unknown format {fmt!r}; use csv or parquet", field="format")


__all__ = ["EXPORT_FORMATS", "EXPORT_MEDIA_TYPES", "csv_stream", "export_stream", "parquet_stream"]
