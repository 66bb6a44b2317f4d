"""The column-wise validation accepts and refuses exactly what the per-row path does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.ingest.validate import (
    GatewayInfo,
    IngestMeter,
    RawReading,
    Rejection,
    ValidationPolicy,
    validate_reading,
)
from kilnwatch.ingest.vectorised import (
    raw_frame_from_readings,
    raw_frame_from_table,
    validate_frame,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
POLICY = ValidationPolicy(local_tz="Asia/Shanghai")  # the platform zone, passed explicitly
METERS = {
    "E": IngestMeter(1, "E", 10, 100, "electricity", "counter", "kWh", date(2020, 1, 1)),
    "C": IngestMeter(2, "C", 10, None, "raw_coal", "interval", "t"),
    "O": IngestMeter(3, "O", 20, 300, "o2", "instant", "%"),
}
GATEWAYS = [None, GatewayInfo(100, "GW", 10, "http"), GatewayInfo(300, "GW3", 30, "mqtt")]

timestamps = st.one_of(
    st.sampled_from([
        "2025-03-01T00:00:00+00:00", "2025-03-01 08:00:00.5+08:00", "2025-03-01T00:00:00Z",
        "2025-02-30T00:00:00+00:00", "2025-03-01T00:00:00", "2019-12-31T23:59:59+08:00",
        "2019-12-31T16:00:00+00:00", "2025-06-01T00:05:00+00:00", "2025-06-01T00:05:01+00:00",
        "20250301T000000Z", "", " 2025-03-01T00:00:00+00:00", "2025-03-01T24:00:00+00:00",
        "2025-03-01T00:00:00.1234567+00:00", "nonsense",
    ]),
    st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2025, 7, 1),
                 timezones=st.sampled_from([UTC, None])),
    st.none(),
)  # fmt: skip
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**60), 2**60),
    st.sampled_from(["1.5", " 2", "1e3", "-0.5", "inf", "nan", "1_000", "", "abc", "+3", ".5",
                     "120", "-1"]),
    st.booleans(),
    st.none(),
)  # fmt: skip
rows = st.lists(
    st.tuples(
        st.sampled_from(["E", "C", "O", "NOPE", "", None]),
        timestamps,
        values,
        st.sampled_from([None, "", "kWh", "MWh", "t", "kg", "%", "m3", "kwh", " t"]),
        st.sampled_from([None, "", "N", "T ", "ABC", " ", "Z9"]),
        st.integers(0, 2),
    ),
    max_size=30,
)


def _raw(i: int, item: tuple[object, ...]) -> RawReading:
    code, ts, value, unit, flag, _ = item
    payload = {"meter_code": code, "ts": str(ts), "value": str(value)}
    return RawReading(code, ts, value, unit, flag, i, payload)  # type: ignore[arg-type]


@given(rows)
@settings(max_examples=150, deadline=None)
def test_same_decisions_as_the_per_row_path(items: list[tuple[object, ...]]) -> None:
    by_delivery: list[list[RawReading]] = [[], [], []]
    flat: list[tuple[int, RawReading]] = []
    for i, item in enumerate(items, start=1):
        raw = _raw(i, item)
        by_delivery[item[5]].append(raw)  # type: ignore[index]
    for d, group in enumerate(by_delivery):
        flat.extend((d, r) for r in group)
    frame = raw_frame_from_readings(by_delivery)
    check = validate_frame(frame, METERS, GATEWAYS, NOW, POLICY, lambda k: flat[k][1])
    expected_ok, expected_bad = [], []
    for d, r in flat:
        outcome = validate_reading(r, METERS, GATEWAYS[d], NOW, POLICY)
        if isinstance(outcome, Rejection):
            expected_bad.append((d, outcome.row_no, outcome.code, outcome.message, outcome.field))
        else:
            expected_ok.append((d, r.row_no, outcome.meter.id, outcome.ts, outcome.value,
                                outcome.flag))  # fmt: skip
    got_bad = [(d, r.row_no, r.code, r.message, r.field) for d, r in check.rejected]
    got_ok = check.valid.select("delivery", "row_no", "meter_id", "ts", "value", "flag").rows()
    assert sorted(got_bad) == sorted(expected_bad)
    assert sorted(got_ok, key=repr) == sorted(expected_ok, key=repr)


def test_file_table_rows_and_parquet_types() -> None:
    table = pl.DataFrame(
        {"meter_code": ["C", "C", "NOPE"], "ts": ["2025-03-01T00:00:00+08:00", "x", ""],
         "value": ["1.5", "2", "3"], "unit": ["kg", "t", ""], "flag": ["", "", ""]}
    )  # fmt: skip
    raw = raw_frame_from_table(table, 11, 0)
    assert raw["row_no"].to_list() == [11, 12, 13]

    def raw_of(i: int) -> RawReading:
        row = table.row(i, named=True)
        return RawReading(row["meter_code"], row["ts"], row["value"], row["unit"] or None,
                          None, 11 + i, row)  # fmt: skip

    check = validate_frame(raw, METERS, [None], NOW, POLICY, raw_of)
    assert check.valid["value"].to_list() == [0.0015]
    assert check.valid["ts"].to_list() == [datetime(2025, 2, 28, 16, tzinfo=UTC)]
    assert [(r.row_no, r.code) for _, r in check.rejected] == [
        (12, "ingest.bad_timestamp"), (13, "ingest.unknown_meter")
    ]  # fmt: skip
    naive = pl.DataFrame({"meter_code": ["C"], "ts": [datetime(2025, 3, 1)], "value": [1.0]})
    assert raw_frame_from_table(naive, 1, 0)["force"].to_list() == [True]
    aware = naive.with_columns(pl.col("ts").dt.replace_time_zone("Asia/Shanghai"))
    converted = raw_frame_from_table(aware, 1, 0)["ts_dt"].to_list()
    assert converted == [datetime(2025, 3, 1, tzinfo=UTC) - timedelta(hours=8)]
