"""Saved column mappings: the exports of existing energy-monitoring systems (接入现有监测系统)
as readings, mapped once per source and reused for every later file (docs/mappings.md).

A :class:`MappingSpec` says which column of a source's export holds what: the time
(with its format; a time without offset is local time, ``Settings.timezone``), and either

* **long** exports (one reading per row): the meter column, the value column and the unit
  (a column, or one unit for all), or
* **wide** exports (one row per time, one column per meter, as most SCADA/EMS reports):
  for each value column the meter code and unit.

Source names of meters and units can be translated (``meter_codes``, ``unit_names``).
:func:`map_table` turns a table (CSV in any encoding, XLSX or JSON records) into the readings
frame of the one pipeline; every fault names the source file, its row and the *source* column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.ingest.meters import MeterCache
from kilnwatch.ingest.payloads import reading_from_mapping
from kilnwatch.ingest.pipeline import DeliveryMeta, ReadingCounts, ingest_frame
from kilnwatch.ingest.readings_file import MAX_REPORTED_ERRORS
from kilnwatch.ingest.tables import TextEncoding, decode_text, read_table
from kilnwatch.ingest.validate import RawReading, Rejection, ValidationPolicy
from kilnwatch.ingest.vectorised import RawOf, raw_frame_from_table
from kilnwatch.store.repos.mappings import get_mapping, mark_applied, save_mapping

MAPPED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".json")
TS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
              "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")  # fmt: skip
"""Forms of a local time tried when a mapping names no format (ISO 8601 with offset too)."""
_OFFSET = r"(Z|[+-]\d\d:?\d\d)$"
DEFAULT_MAPPED_ROWS = 50_000
"""Source rows per pipeline call (a wide row gives one reading per value column)."""


@dataclass(frozen=True)
class ValueColumn:
    """A column of a wide export: the readings of one meter, in one unit."""

    column: str
    meter_code: str
    unit: str


@dataclass(frozen=True)
class MappingSpec:
    """Which source column holds which reading field (see the module docstring)."""

    ts_column: str
    ts_format: str | None = None
    meter_column: str | None = None
    value_column: str | None = None
    unit_column: str | None = None
    unit: str | None = None
    flag_column: str | None = None
    value_columns: tuple[ValueColumn, ...] = ()
    meter_codes: Mapping[str, str] = field(default_factory=dict)
    unit_names: Mapping[str, str] = field(default_factory=dict)
    records_path: str | None = None

    @property
    def wide(self) -> bool:
        return bool(self.value_columns)

    def columns(self) -> list[str]:
        """Every source column the mapping reads."""
        named = [self.ts_column, self.meter_column, self.value_column, self.unit_column,
                 self.flag_column, *(v.column for v in self.value_columns)]  # fmt: skip
        return [c for c in named if c]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["value_columns"] = [asdict(v) for v in self.value_columns]
        data["meter_codes"], data["unit_names"] = dict(self.meter_codes), dict(self.unit_names)
        return {k: v for k, v in data.items() if v not in (None, [], {})}


def _text(data: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InputError("required", field=key)
        return None
    if not isinstance(value, str):
        raise InputError("must be text", field=key)
    return value.strip()


def _names(data: Mapping[str, Any], key: str) -> dict[str, str]:
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InputError("must be an object of source name → kilnwatch code", field=key)
    return {k.strip(): v.strip() for k, v in value.items()}


def _value_columns(data: Mapping[str, Any]) -> tuple[ValueColumn, ...]:
    items = data.get("value_columns") or []
    if not isinstance(items, list):
        raise InputError("must be a list of {column, meter_code, unit}", field="value_columns")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError("must be {column, meter_code, unit}", field=f"value_columns[{i}]")
        parts = [_text(item, k, required=True) for k in ("column", "meter_code", "unit")]
        out.append(ValueColumn(*(p or "" for p in parts)))
    return tuple(out)


def parse_spec(data: Mapping[str, Any]) -> MappingSpec:
    """A mapping from its JSON form (the API body, the CLI file, the stored row).

    Raises
    ------
    InputError
        A missing or contradictory field, named by its key.
    """
    known = set(MappingSpec.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown key(s) {unknown}; use {sorted(known)}", field=unknown[0])
    spec = MappingSpec(
        ts_column=_text(data, "ts_column", required=True) or "",
        ts_format=_text(data, "ts_format"),
        meter_column=_text(data, "meter_column"),
        value_column=_text(data, "value_column"),
        unit_column=_text(data, "unit_column"),
        unit=_text(data, "unit"),
        flag_column=_text(data, "flag_column"),
        value_columns=_value_columns(data),
        meter_codes=_names(data, "meter_codes"),
        unit_names=_names(data, "unit_names"),
        records_path=_text(data, "records_path"),
    )
    long_parts = (spec.meter_column, spec.value_column)
    if spec.wide and any(long_parts):
        raise InputError("either value_columns (wide) or meter/value columns (long), not both",
                         field="value_columns")  # fmt: skip
    if not spec.wide and not all(long_parts):
        raise InputError("a long mapping needs meter_column and value_column (or give "
                         "value_columns for a wide export)", field="value_column")  # fmt: skip
    if not spec.wide and not (spec.unit_column or spec.unit):
        raise InputError("a long mapping needs unit_column or unit", field="unit")
    return spec


# --- reading a source file -----------------------------------------------------------------


@dataclass(frozen=True)
class SourceTable:
    """A source file as rows of text; ``rows[i]`` is source row ``i + 1``."""

    file: str
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    encoding: str | None


def _records_at(data: Any, path: str | None, file: str) -> list[Any]:
    for key in (path or "").split("."):
        if key:
            if not isinstance(data, dict) or key not in data:
                raise InputError(f"no {key!r} in the JSON", file=file, field="records_path")
            data = data[key]
    if not isinstance(data, list):
        raise InputError("the JSON records must be a list of objects (set records_path)",
                         file=file, field="records_path")  # fmt: skip
    return data


def _json_table(path: Path, records_path: str | None, encoding: TextEncoding | None) -> SourceTable:
    text, used = decode_text(path.read_bytes(), path.name, encoding)
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} (line {exc.lineno})", file=path.name) from None
    rows: list[dict[str, str]] = []
    columns: dict[str, None] = {}
    for i, record in enumerate(_records_at(data, records_path, path.name), start=1):
        if not isinstance(record, dict):
            raise InputError("a record must be a JSON object", file=path.name, row=i)
        row = {str(k): "" if v is None else str(v) for k, v in record.items()}
        columns.update(dict.fromkeys(row))
        rows.append(row)
    return SourceTable(path.name, tuple(columns), rows, used)


def read_source(path: Path, spec: MappingSpec, encoding: TextEncoding | None = None) -> SourceTable:
    """A CSV (any encoding), XLSX or JSON export as rows of text."""
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    suffix = path.suffix.lower()
    if suffix not in MAPPED_SUFFIXES:
        raise InputError(f"unsupported file type {suffix!r}; use CSV, XLSX or JSON",
                         file=path.name)  # fmt: skip
    if suffix == ".json":
        return _json_table(path, spec.records_path, encoding)
    table = read_table(path, encoding)
    return SourceTable(table.file, table.columns, table.rows, table.encoding)


# --- mapping rows to readings --------------------------------------------------------------


@dataclass
class MappedChunk:
    """Readings of some source rows: a frame in the readings format (``row_no`` is the
    source row) and the faults found while mapping (times that do not parse)."""

    frame: pl.DataFrame
    faults: list[InputError]


def check_source_columns(spec: MappingSpec, table: SourceTable) -> None:
    """Every column the mapping reads must be in the file (others are ignored)."""
    missing = [c for c in spec.columns() if c not in table.columns]
    if missing:
        errors = [InputError("column named by the mapping is missing", file=table.file,
                             field=c) for c in missing]  # fmt: skip
        raise ImportRejected(errors, file=table.file)


def _parse_ts(text: pl.Expr, spec: MappingSpec, tz: str) -> pl.Expr:
    """Local times (``ts_format`` or :data:`TS_FORMATS`) in ``tz``; without a format, ISO 8601
    with an offset too (a time without offset is local time)."""
    formats = (spec.ts_format,) if spec.ts_format else TS_FORMATS
    local = pl.coalesce(
        [text.str.strptime(pl.Datetime("us"), f, strict=False, exact=True) for f in formats]
    ).dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    local = local.dt.convert_time_zone("UTC")
    if spec.ts_format:
        return local
    offset = text.str.to_datetime(time_zone="UTC", strict=False, time_unit="us")
    return pl.when(text.str.contains(_OFFSET)).then(offset).otherwise(local)


def _long_frame(spec: MappingSpec, rows: pl.DataFrame) -> pl.DataFrame:
    unit = (
        pl.col(spec.unit_column).replace(dict(spec.unit_names))
        if spec.unit_column
        else pl.lit(spec.unit)
    )
    return rows.select(
        pl.col("row_no"),
        pl.col(spec.meter_column or "").replace(dict(spec.meter_codes)).alias("meter_code"),
        pl.col("ts_utc").alias("ts"),
        pl.col(spec.value_column or "").alias("value"),
        unit.alias("unit"),
        (pl.col(spec.flag_column) if spec.flag_column else pl.lit("")).alias("flag"),
    )


def _wide_frame(spec: MappingSpec, rows: pl.DataFrame) -> pl.DataFrame:
    flag = pl.col(spec.flag_column) if spec.flag_column else pl.lit("")
    parts = [
        rows.select(
            pl.col("row_no"),
            pl.lit(v.meter_code).alias("meter_code"),
            pl.col("ts_utc").alias("ts"),
            pl.col(v.column).alias("value"),
            pl.lit(spec.unit_names.get(v.unit, v.unit)).alias("unit"),
            flag.alias("flag"),
        ).filter(pl.col("value").str.strip_chars() != "")  # an empty cell: no reading
        for v in spec.value_columns
    ]
    return pl.concat(parts).sort("row_no", maintain_order=True)


def map_rows(
    spec: MappingSpec, table: SourceTable, rows: Sequence[dict[str, str]], first_row: int, tz: str
) -> MappedChunk:
    """Readings of ``rows`` (source rows ``first_row``…) in the readings format."""
    wanted = spec.columns()
    frame = pl.DataFrame(
        {c: [r.get(c, "") for r in rows] for c in wanted}, schema=dict.fromkeys(wanted, pl.Utf8)
    ).with_columns(pl.int_range(first_row, first_row + len(rows), dtype=pl.Int64).alias("row_no"))
    frame = frame.with_columns(pl.col(c).str.strip_chars() for c in wanted).with_columns(
        _parse_ts(pl.col(spec.ts_column), spec, tz).alias("ts_utc")
    )
    bad = frame.filter(pl.col("ts_utc").is_null())
    form = spec.ts_format or "ISO 8601 or " + " / ".join(TS_FORMATS)
    faults = [
        InputError(
            f"not a time in the form {form}: {text!r}",
            file=table.file,
            row=row,
            field=spec.ts_column,
        )  # fmt: skip
        for row, text in bad.select("row_no", spec.ts_column).iter_rows()
    ]
    good = frame.filter(pl.col("ts_utc").is_not_null())
    numbers = _wide_frame(spec, good) if spec.wide else _long_frame(spec, good)
    numbers = numbers.with_columns(pl.col("value").str.replace_all(",", "", literal=True))
    return MappedChunk(numbers, faults)


def mapped_chunks(
    spec: MappingSpec, table: SourceTable, tz: str, chunk_rows: int
) -> Iterator[MappedChunk]:
    """:func:`map_rows` over the table in chunks of ``chunk_rows`` source rows."""
    check_source_columns(spec, table)
    for start in range(0, len(table.rows), chunk_rows):
        yield map_rows(spec, table, table.rows[start : start + chunk_rows], start + 1, tz)


def source_column(spec: MappingSpec, field_name: str | None, meter_code: object) -> str | None:
    """The source column a reading field came from (for located errors)."""
    if spec.wide and field_name in ("value", "meter_code", "unit"):
        return next((v.column for v in spec.value_columns if v.meter_code == meter_code), None)
    by_field = {"ts": spec.ts_column, "meter_code": spec.meter_column,
                "value": spec.value_column, "unit": spec.unit_column or "unit (mapping)",
                "flag": spec.flag_column}  # fmt: skip
    return by_field.get(field_name or "", field_name)


# --- applying a mapping --------------------------------------------------------------------


@dataclass
class MappedImportReport(ReadingCounts):
    """A mapped import: source rows read, readings they gave, their outcomes, the encoding."""

    source_rows: int = 0
    readings: int = 0
    encoding: str | None = None
    faults: list[InputError] = field(default_factory=list)


def _raw_of(chunk: pl.DataFrame) -> RawOf:
    def raw_of(i: int) -> RawReading:
        item: dict[str, Any] = chunk.row(i, named=True)
        item["ts"] = item["ts"].isoformat()
        return reading_from_mapping(item, item.pop("row_no"))

    return raw_of


def _located(spec: MappingSpec, file: str, r: Rejection) -> InputError:
    column = source_column(spec, r.field, r.payload.get("meter_code"))
    return InputError(r.message, file=file, row=r.row_no, field=column, code=r.code)


def apply_mapping(
    session: Session,
    spec: MappingSpec,
    path: Path,
    *,
    policy: ValidationPolicy,
    mapping_name: str,
    skip_invalid: bool = False,
    encoding: TextEncoding | None = None,
    chunk_rows: int = DEFAULT_MAPPED_ROWS,
    now: datetime | None = None,
) -> MappedImportReport:
    """Import a source file through a mapping, in the session's transaction (no commit).

    All-or-nothing unless ``skip_invalid`` (then faulty readings go to the dead letters and
    rows whose time does not parse are reported): every fault names the source file, row and
    column.

    Raises
    ------
    ImportRejected
        Some row is faulty and ``skip_invalid`` is not set.
    """
    now = now or datetime.now(UTC)
    table = read_source(path, spec, encoding)
    report = MappedImportReport(encoding=None if table.encoding is None else str(
        TextEncoding(table.encoding, detected=encoding is None)))  # fmt: skip
    cache = MeterCache(policy)
    errors: list[InputError] = []
    for chunk in mapped_chunks(spec, table, policy.local_tz, chunk_rows):
        errors += chunk.faults
        report.rejected += len(chunk.faults)  # not stored, not dead-lettered: reported
        frame = chunk.frame
        raw = raw_frame_from_table(frame.drop("row_no"), 1, 0).with_columns(
            frame.get_column("row_no").alias("row_no")
        )
        meta = DeliveryMeta("file", f"{path.name} (mapping {mapping_name})", frame.height)
        result = ingest_frame(session, [meta], raw, _raw_of(frame), policy=policy, now=now,
                              dead_letters=skip_invalid, cache=cache)[0]  # fmt: skip
        report.add(result)
        report.readings += frame.height
        errors += [_located(spec, table.file, r) for r in result.rejected]
    report.source_rows = len(table.rows)
    report.faults = errors[:MAX_REPORTED_ERRORS]
    if errors and not skip_invalid:
        raise ImportRejected(report.faults, file=table.file)
    return report


def preview_mapping(
    spec: MappingSpec, path: Path, tz: str, *, rows: int = 20,
    encoding: TextEncoding | None = None,
) -> tuple[SourceTable, MappedChunk]:  # fmt: skip
    """The readings the first ``rows`` source rows give, and their mapping faults; nothing
    is stored (meters and values are checked by the import itself)."""
    table = read_source(path, spec, encoding)
    check_source_columns(spec, table)
    return table, map_rows(spec, table, table.rows[:rows], 1, tz)


# --- saved mappings ------------------------------------------------------------------------


def save_spec(
    session: Session, name: str, source: str, data: Mapping[str, Any], by: str
) -> MappingSpec:
    """Check a mapping's JSON form and save it under ``name`` (create or replace)."""
    spec = parse_spec(data)
    save_mapping(session, name, source, spec.to_json(), by)
    return spec


def saved_spec(session: Session, name: str) -> MappingSpec:
    return parse_spec(get_mapping(session, name).spec)


def import_with_mapping(
    session: Session,
    name: str,
    path: Path,
    *,
    policy: ValidationPolicy,
    skip_invalid: bool = False,
    encoding: TextEncoding | None = None,
) -> MappedImportReport:
    """Import ``path`` through the saved mapping ``name`` (see :func:`apply_mapping`)."""
    row = get_mapping(session, name)
    report = apply_mapping(session, parse_spec(row.spec), path, policy=policy, mapping_name=name,
                           skip_invalid=skip_invalid, encoding=encoding)  # fmt: skip
    mark_applied(session, row)
    return report


_GUESSES = (
    ("ts_column", ("时间", "日期", "time", "date", "ts", "timestamp", "采集时间", "数据时间")),
    ("meter_column", ("表号", "编号", "计量点", "设备", "仪表", "meter", "point", "tag", "code")),
    ("value_column", ("读数", "数值", "值", "用量", "示数", "value", "reading", "amount")),
    ("unit_column", ("单位", "unit", "uom")),
    ("flag_column", ("标记", "标志", "状态", "flag", "quality")),
)
"""Header words that suggest a column's field (a first draft for the person to correct)."""


def guess_spec(columns: Sequence[str], unit: str = "kWh") -> dict[str, Any]:
    """A draft mapping from a header: known words pick the long fields; with no meter and
    value column every other column becomes a wide value column named after itself."""
    draft: dict[str, Any] = {}
    for key, words in _GUESSES:
        match = next((c for c in columns if c not in draft.values()
                      and any(w in c.lower() for w in words)), None)  # fmt: skip
        if match is not None:
            draft[key] = match
    if not ("meter_column" in draft and "value_column" in draft):
        draft.pop("meter_column", None)
        draft.pop("value_column", None)
        draft.pop("unit_column", None)
        draft["value_columns"] = [
            {"column": c, "meter_code": c, "unit": unit} for c in columns if c not in draft.values()
        ]
    elif "unit_column" not in draft:
        draft["unit"] = unit
    draft.setdefault("ts_column", columns[0] if columns else "")
    return draft
