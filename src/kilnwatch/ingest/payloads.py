"""Parsing delivered payloads into :class:`RawReading` rows (pure: bytes/text in, rows out).

The payloads are those of docs/formats.md: a JSON object ``{"readings": [...]}``, a single
reading object, or readings CSV text (``meter_code, ts, value, unit, flag``). A payload that
cannot be read at all raises :class:`~kilnwatch.errors.InputError` with code
``ingest.malformed``; a row with a wrong field still becomes a RawReading and is refused by
validation with its own code, so every row is accounted for.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from kilnwatch.errors import InputError
from kilnwatch.formats import READINGS_FORMAT
from kilnwatch.ingest.validate import RawReading

MALFORMED = "ingest.malformed"


class ReadingSource(Protocol):
    """Anything that yields readings in delivery order (files, decoded messages, tests)."""

    def __iter__(self) -> Iterator[RawReading]: ...


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def reading_from_mapping(item: Mapping[str, Any], row_no: int) -> RawReading:
    """One reading object (JSON or CSV row) as a RawReading; the mapping is the payload."""
    value = item.get("value")
    return RawReading(
        meter_code=_text(item.get("meter_code")),
        ts=_text(item.get("ts")),
        value=value
        if isinstance(value, int | float) and not isinstance(value, bool)
        else _text(value),
        unit=_text(item.get("unit")) or None,
        flag=_text(item.get("flag")) or None,
        row_no=row_no,
        payload=dict(item),
    )


def parse_json_readings(data: bytes | str) -> list[RawReading]:
    """Readings of a JSON payload (``{"readings": [...]}`` or one reading object)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", code=MALFORMED) from None
    items: Iterable[object]
    if isinstance(doc, dict) and "readings" in doc:
        items = doc["readings"] if isinstance(doc["readings"], list) else [None]
    elif isinstance(doc, dict):
        items = [doc]
    else:
        raise InputError("expected an object with 'readings' or a reading object", code=MALFORMED)
    rows = []
    for row_no, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InputError("each reading must be an object", row=row_no, code=MALFORMED)
        rows.append(reading_from_mapping(item, row_no))
    return rows


def check_columns(fieldnames: Iterable[str] | None, file: str | None = None) -> None:
    """Refuse a header with unknown or missing columns (docs/formats.md)."""
    names = [n.strip() for n in fieldnames or ()]
    unknown = sorted(set(names) - READINGS_FORMAT.accepted)
    missing = sorted(READINGS_FORMAT.required - set(names))
    if unknown or missing:
        reason = f"unknown column(s) {unknown}, missing column(s) {missing}"
        raise InputError(reason, file=file, row=None, code=MALFORMED)


def iter_csv_readings(lines: Iterable[str], file: str | None = None) -> Iterator[RawReading]:
    """Readings of CSV text lines in the readings format, row numbers from 1."""
    reader = csv.DictReader(lines)
    if reader.fieldnames:
        reader.fieldnames = [n.lstrip("\ufeff").strip() for n in reader.fieldnames]
    check_columns(reader.fieldnames, file)
    if "ts_convention" in (reader.fieldnames or ()):
        reason = (
            "column 'ts_convention' is read by file imports (kilnwatch import readings); a "
            "delivered payload stamps each reading at its interval's end"
        )
        raise InputError(reason, file=file, field="ts_convention", code=MALFORMED)
    for row_no, row in enumerate(reader, start=1):
        yield reading_from_mapping({k: v for k, v in row.items() if k is not None}, row_no)


def parse_csv_readings(data: bytes | str) -> list[RawReading]:
    """Readings of a CSV payload (UTF-8, with or without a byte-order mark)."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}"
        raise InputError(
            f"not UTF-8 text at {where}: send the CSV as UTF-8", code=MALFORMED
        ) from None
    try:
        return list(iter_csv_readings(io.StringIO(text)))
    except csv.Error as exc:
        raise InputError(f"unreadable CSV: {exc}", code=MALFORMED) from None


def payload_json(raw: RawReading) -> str:
    """The received row as JSON text for the dead-letter store."""
    return json.dumps(dict(raw.payload), ensure_ascii=False, default=str)
