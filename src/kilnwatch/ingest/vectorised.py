"""Column-wise validation of readings with Polars: the same rules as :mod:`validate`, per frame.

The frame holds the rows as received (:data:`RAW_SCHEMA`). Every check of
:func:`~kilnwatch.ingest.validate.validate_reading` is evaluated as a boolean column after one
join with the meter table (code → id, unit, enterprise, gateway, commissioning start, range
limits) and one with the unit-factor table; timestamps and numbers are parsed by Polars when
they have the common strict forms (ISO 8601 with an offset; plain decimal numbers).

A row that passes every check is accepted with its value converted exactly as
:func:`~kilnwatch.domain.units.convert` does (``value * from_factor / to_factor``). A row that
fails any check, or has a form the column parser does not handle, is handed to the per-row
:func:`~kilnwatch.ingest.validate.validate_reading`, which decides it and writes the reason
code and message. So the reason codes and messages are those of the per-row path by
construction, and the column checks only have to never pass a row the per-row path refuses
(property-tested in ``tests/ingest/test_vectorised.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from kilnwatch.domain.units import unit_def
from kilnwatch.errors import UnitError
from kilnwatch.ingest.validate import (
    GatewayInfo,
    IngestMeter,
    RawReading,
    Rejection,
    ValidationPolicy,
    ValidReading,
    check_rates,
    validate_reading,
)

UTC_US = pl.Datetime("us", "UTC")
RAW_SCHEMA: dict[str, Any] = {
    "row_idx": pl.Int64,
    "delivery": pl.Int64,
    "row_no": pl.Int64,
    "meter_code": pl.Utf8,
    "ts_text": pl.Utf8,
    "ts_dt": UTC_US,
    "value_num": pl.Float64,
    "value_text": pl.Utf8,
    "unit": pl.Utf8,
    "flag": pl.Utf8,
    "force": pl.Boolean,
}
VALID_SCHEMA: dict[str, Any] = {
    "row_idx": pl.Int64,
    "delivery": pl.Int64,
    "row_no": pl.Int64,
    "meter_id": pl.Int64,
    "ts": UTC_US,
    "value": pl.Float64,
    "flag": pl.Utf8,
}

# Strict forms the column parser takes; anything else goes to the per-row parser.
TS_PATTERN = (
    r"^[1-9]\d{3}-\d{2}-\d{2}[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
)
NUMBER_PATTERN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
FLAG_PATTERN = r"^[A-Za-z0-9]{1,2}$"
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"

RawOf = Callable[[int], RawReading]
PreviousOf = Callable[[list[int]], Mapping[int, tuple[datetime, float]]]
"""Meter ids -> (time, value) of each meter's last stored reading."""


@dataclass
class FrameCheck:
    """Outcome of :func:`validate_frame`: accepted rows and per-row rejections."""

    valid: pl.DataFrame
    rejected: list[tuple[int, Rejection]]


def empty_raw() -> pl.DataFrame:
    """A raw frame with no rows."""
    return pl.DataFrame(schema=RAW_SCHEMA)


def _commissioning_start(day: date | None, policy: ValidationPolicy) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(), tzinfo=policy.tz).astimezone(UTC)


def meter_frame(meters: Mapping[str, IngestMeter], policy: ValidationPolicy) -> pl.DataFrame:
    """The meter table joined once per frame: ids, units, owner, commissioning, limits."""
    rows: dict[str, list[Any]] = {k: [] for k in (
        "meter_code", "meter_id", "m_enterprise", "m_gateway", "m_unit", "m_start",
        "m_min", "m_max")}  # fmt: skip
    for m in meters.values():
        limit = policy.limits.for_meter(m.carrier, m.measurement, m.unit_of_measure)
        for key, value in (
            ("meter_code", m.code), ("meter_id", m.id), ("m_enterprise", m.enterprise_id),
            ("m_gateway", m.gateway_id), ("m_unit", m.unit_of_measure),
            ("m_start", _commissioning_start(m.commissioned_on, policy)),
            ("m_min", limit.min_value if limit else None),
            ("m_max", limit.max_value if limit else None),
        ):  # fmt: skip
            rows[key].append(value)
    schema: dict[str, Any] = {"meter_code": pl.Utf8, "meter_id": pl.Int64, "m_enterprise": pl.Int64,
              "m_gateway": pl.Int64, "m_unit": pl.Utf8, "m_start": UTC_US,
              "m_min": pl.Float64, "m_max": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def _factors(pairs: pl.DataFrame) -> pl.DataFrame:
    """``from_factor``/``to_factor`` per (unit, meter unit) of one dimension, else null."""
    out: dict[str, list[Any]] = {"unit": [], "m_unit": [], "f_from": [], "f_to": []}
    for unit, m_unit in pairs.iter_rows():
        f_from = f_to = None
        try:
            source, target = unit_def(unit), unit_def(m_unit)
            if source.dimension == target.dimension:
                f_from, f_to = source.factor_to_base, target.factor_to_base
        except UnitError:
            pass
        for key, value in (("unit", unit), ("m_unit", m_unit), ("f_from", f_from),
                           ("f_to", f_to)):  # fmt: skip
            out[key].append(value)
    schema = {"unit": pl.Utf8, "m_unit": pl.Utf8, "f_from": pl.Float64, "f_to": pl.Float64}
    return pl.DataFrame(out, schema=schema)


def _gateway_frame(gateways: Sequence[GatewayInfo | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "delivery": list(range(len(gateways))),
            "g_id": [g.id if g else None for g in gateways],
            "g_enterprise": [g.enterprise_id if g else None for g in gateways],
        },
        schema={"delivery": pl.Int64, "g_id": pl.Int64, "g_enterprise": pl.Int64},
    )


def parse_raw(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``ts`` and ``v``: timestamps and numbers in the strict forms the column
    parser takes, parsed (null otherwise). :func:`validate_frame` does it when not done yet
    (a file import does it while the chunk before is being stored)."""
    text = pl.col("ts_text")
    ts = (
        pl.when(text.str.contains(TS_PATTERN))
        .then(
            text.str.replace(r"Z$", "+00:00")
            .str.replace(" ", "T", literal=True)
            .str.to_datetime(_TS_FORMAT, strict=False, time_unit="us", time_zone="UTC")
        )
        .otherwise(None)
    )
    number = pl.when(pl.col("value_text").str.contains(NUMBER_PATTERN)).then(
        pl.col("value_text").cast(pl.Float64, strict=False)
    )
    return frame.with_columns(
        pl.coalesce(pl.col("ts_dt"), ts).alias("ts"),
        pl.coalesce(pl.col("value_num"), number).alias("v"),
    )


def _checked(frame: pl.DataFrame, now: datetime, policy: ValidationPolicy) -> pl.DataFrame:
    unit = pl.col("unit")
    same_unit = unit.is_null() | (unit == "") | (unit == pl.col("m_unit"))
    converted = pl.col("v") * pl.col("f_from") / pl.col("f_to")  # as domain.units.convert
    value = pl.when(same_unit).then(pl.col("v")).otherwise(converted)
    latest = now + timedelta(seconds=policy.future_tolerance_s)
    age = policy.device_max_age_s
    oldest = now - timedelta(seconds=age) if age is not None else None
    flag = pl.col("flag")
    checks = [
        pl.col("meter_id").is_not_null(),
        pl.col("g_id").is_null()
        | (pl.col("m_gateway") == pl.col("g_id")).fill_null(False)
        | (pl.col("m_enterprise") == pl.col("g_enterprise")).fill_null(False),
        pl.col("ts").is_not_null(),
        pl.col("ts") <= latest,
        pl.lit(True) if oldest is None else pl.col("g_id").is_null() | (pl.col("ts") >= oldest),
        pl.col("m_start").is_null() | (pl.col("ts") >= pl.col("m_start")),
        pl.col("v").is_not_null() & pl.col("v").is_finite(),
        same_unit | pl.col("f_from").is_not_null(),
        pl.col("m_min").is_null() | (pl.col("value") >= pl.col("m_min")),
        pl.col("m_max").is_null() | (pl.col("value") <= pl.col("m_max")),
        flag.is_null() | (flag == "") | flag.str.contains(FLAG_PATTERN),
        ~pl.col("force"),
    ]
    ok = pl.all_horizontal([c.fill_null(False) for c in checks])
    return frame.with_columns(value.alias("value")).with_columns(ok.alias("ok"))


def validate_frame(
    raw: pl.DataFrame,
    meters: Mapping[str, IngestMeter],
    gateways: Sequence[GatewayInfo | None],
    now: datetime,
    policy: ValidationPolicy,
    raw_of: RawOf,
    meter_table: pl.DataFrame | None = None,
) -> FrameCheck:
    """Validate ``raw`` (:data:`RAW_SCHEMA`; ``delivery`` indexes ``gateways``).

    ``raw_of(row_idx)`` gives the row as a :class:`RawReading` for the per-row decision on
    rows the column checks do not pass.
    """
    table = meter_table if meter_table is not None else meter_frame(meters, policy)
    frame = raw.join(table, on="meter_code", how="left").join(
        _gateway_frame(gateways), on="delivery", how="left"
    )
    if "ts" not in frame.columns or "v" not in frame.columns:
        frame = parse_raw(frame)
    pairs = frame.filter(pl.col("unit").is_not_null() & pl.col("m_unit").is_not_null()).select(
        "unit", "m_unit"
    ).unique()  # fmt: skip
    frame = frame.join(_factors(pairs), on=["unit", "m_unit"], how="left")
    frame = _checked(frame, now, policy)
    valid = frame.filter(pl.col("ok")).select(
        "row_idx", "delivery", "row_no", "meter_id", "ts", "value",
        pl.when(pl.col("flag") == "").then(None).otherwise(pl.col("flag")).alias("flag"),
    )  # fmt: skip
    suspects = frame.filter(~pl.col("ok")).select("row_idx", "delivery")
    rejected: list[tuple[int, Rejection]] = []
    rescued: list[dict[str, Any]] = []
    for row_idx, delivery in suspects.iter_rows():
        outcome = validate_reading(raw_of(row_idx), meters, gateways[delivery], now, policy)
        if isinstance(outcome, Rejection):
            rejected.append((delivery, outcome))
        else:
            rescued.append(_valid_row(row_idx, delivery, outcome))
    if rescued:
        extra = pl.DataFrame(rescued, schema=VALID_SCHEMA)
        valid = pl.concat([valid.cast(VALID_SCHEMA), extra]).sort("row_idx")  # type: ignore[arg-type]
    return FrameCheck(valid.cast(VALID_SCHEMA), rejected)  # type: ignore[arg-type]


def _valid_row(row_idx: int, delivery: int, v: ValidReading) -> dict[str, Any]:
    return {"row_idx": row_idx, "delivery": delivery, "row_no": v.row_no,
            "meter_id": v.meter.id, "ts": v.ts, "value": v.value, "flag": v.flag}  # fmt: skip


# -- building raw frames ------------------------------------------------------------------


def raw_frame_from_readings(deliveries: Sequence[Sequence[RawReading]]) -> pl.DataFrame:
    """The raw frame of parsed payload rows (JSON, HJ 212, CSV text), one list per delivery."""
    cols: dict[str, list[Any]] = {k: [] for k in RAW_SCHEMA}
    idx = 0
    for delivery, rows in enumerate(deliveries):
        for r in rows:
            ts_text, ts_dt, force = None, None, False
            if isinstance(r.ts, str):
                ts_text = r.ts
            elif isinstance(r.ts, datetime):
                if r.ts.tzinfo is None or r.ts.utcoffset() is None:
                    force = True
                else:
                    ts_dt = r.ts.astimezone(UTC)
            v = r.value
            num = v if isinstance(v, float | int) and not isinstance(v, bool) else None
            if isinstance(num, int) and abs(num) > 2**53:
                num, force = None, True
            for key, value in (
                ("row_idx", idx), ("delivery", delivery), ("row_no", r.row_no),
                ("meter_code", r.meter_code), ("ts_text", ts_text), ("ts_dt", ts_dt),
                ("value_num", None if num is None else float(num)),
                ("value_text", v if isinstance(v, str) else None),
                ("unit", r.unit), ("flag", r.flag), ("force", force),
            ):  # fmt: skip
                cols[key].append(value)
            idx += 1
    return pl.DataFrame(cols, schema=RAW_SCHEMA)


def raw_frame_from_table(table: pl.DataFrame, first_row_no: int, first_idx: int) -> pl.DataFrame:
    """The raw frame of a readings file chunk (CSV as text, or Parquet with native types)."""
    n = table.height
    cols = table.columns

    def text(name: str) -> pl.Expr:
        if name not in cols:
            return pl.lit(None, pl.Utf8)
        return pl.col(name).cast(pl.Utf8)

    ts_type = table.schema.get("ts")
    force = pl.lit(False)
    if isinstance(ts_type, pl.Datetime):
        ts_text, ts_dt = pl.lit(None, pl.Utf8), pl.col("ts")
        if ts_type.time_zone is None:
            force = pl.lit(True)
        else:
            ts_dt = pl.col("ts").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    else:
        ts_text, ts_dt = text("ts"), pl.lit(None, UTC_US)
    value_type = table.schema.get("value")
    if value_type is not None and value_type.is_numeric():
        value_num, value_text = pl.col("value").cast(pl.Float64), pl.lit(None, pl.Utf8)
    else:
        value_num, value_text = pl.lit(None, pl.Float64), text("value")
    out = table.select(
        pl.int_range(first_idx, first_idx + n, dtype=pl.Int64).alias("row_idx"),
        pl.lit(0, pl.Int64).alias("delivery"),
        pl.int_range(first_row_no, first_row_no + n, dtype=pl.Int64).alias("row_no"),
        text("meter_code").alias("meter_code"),
        ts_text.alias("ts_text"),
        ts_dt.alias("ts_dt"),
        value_num.alias("value_num"),
        value_text.alias("value_text"),
        text("unit").alias("unit"),
        text("flag").alias("flag"),
        force.alias("force"),
    )
    return out.cast(RAW_SCHEMA)  # type: ignore[arg-type]


def check_frame_rates(
    valid: pl.DataFrame,
    meters: Mapping[int, IngestMeter],
    policy: ValidationPolicy,
    raw_of: RawOf,
    previous: PreviousOf,
) -> tuple[pl.DataFrame, list[tuple[int, Rejection]]]:
    """The per-row rate-of-change check (:func:`~kilnwatch.ingest.validate.check_rates`) of
    accepted rows, only for meters whose limits row sets a rate; ``previous`` is asked for
    the last stored readings only when such rows exist. Returns the rows still accepted and
    the rejections by delivery."""
    rated = [
        m.id for m in meters.values()
        if (lim := policy.limits.for_meter(m.carrier, m.measurement, m.unit_of_measure))
        and lim.max_rate_per_h is not None
    ]  # fmt: skip
    subject = valid.filter(pl.col("meter_id").is_in(rated)) if rated else valid.clear()
    if subject.height == 0:
        return valid, []
    readings: list[ValidReading] = []
    where: dict[int, tuple[int, int]] = {}
    for idx, delivery, row_no, meter_id, ts, value, flag in subject.select(
        "row_idx", "delivery", "row_no", "meter_id", "ts", "value", "flag"
    ).iter_rows():
        payload = dict(raw_of(idx).payload)  # a distinct object per reading: the lookup key
        readings.append(ValidReading(meters[meter_id], ts, value, flag, row_no, payload))
        where[id(payload)] = (idx, delivery)
    _, too_fast = check_rates(readings, previous(rated), policy)
    located = [(where[id(r.payload)], r) for r in too_fast]
    drop = [idx for (idx, _), _ in located]
    return valid.filter(~pl.col("row_idx").is_in(drop)), [(d, r) for (_, d), r in located]
