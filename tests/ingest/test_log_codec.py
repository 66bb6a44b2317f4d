"""The ingest log's messages: what a front end publishes is what a writer reads back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kilnwatch.errors import InputError
from kilnwatch.ingest.log.codec import MALFORMED, decode, encode, partition_subject
from kilnwatch.ingest.log.stream import parse_servers
from kilnwatch.ingest.pipeline import Delivery, RejectedDelivery
from kilnwatch.ingest.validate import GatewayInfo, RawReading

AT = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)
GW = GatewayInfo(7, "GW-7", 3, "http")


def _rows(n: int, code: str = "M-1") -> list[RawReading]:
    out = []
    for i in range(n):
        ts = (AT - timedelta(minutes=n - i)).isoformat()
        item = {"meter_code": code, "ts": ts, "value": i * 0.25, "unit": "m3", "note": "预热"}
        out.append(RawReading(code, ts, i * 0.25, "m3", None, i + 1, item))
    return out


def _encode(deliveries: list[Delivery], rejected: list[RejectedDelivery] | None = None,
            at: datetime = AT, max_bytes: int = 512 * 1024) -> list:  # fmt: skip
    return encode(deliveries, rejected or [], at, subject="kw.r", partitions=8,
                  max_bytes=max_bytes)  # fmt: skip


def test_round_trip_keeps_rows_gateway_and_rejections() -> None:
    hj212_ts = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    hj = RawReading("SO2-1", hj212_ts, 12.5, "mg/m3", "N", 1, {"mn": "MN1", "cn": "2011"})
    deliveries = [
        Delivery("http", "GW-7", _rows(3), GW),
        Delivery("hj212", "MN1:QN", [hj], None, batch_key="hj212 group: 1 frames"),
    ]
    rejected = [RejectedDelivery("mqtt", "kw/v1/X/readings", "ingest.unknown_gateway",
                                 "no gateway", '{"x": 1}', None)]  # fmt: skip
    [message] = _encode(deliveries, rejected)
    assert message.readings == 4
    assert message.subject == partition_subject("kw.r", "kw/v1/X/readings", 8)
    back = decode(message.body)
    assert back.received_at == AT
    assert back.rejected == rejected
    assert [d.source for d in back.deliveries] == ["http", "hj212"]
    assert back.deliveries[0].gateway == GW
    assert back.deliveries[0].rows == deliveries[0].rows
    assert back.deliveries[1].batch_key == "hj212 group: 1 frames"
    got = back.deliveries[1].rows[0]
    assert (got.meter_code, got.ts, got.value, got.flag) == ("SO2-1", hj212_ts.isoformat(),
                                                             12.5, "N")  # fmt: skip
    assert dict(got.payload) == {"mn": "MN1", "cn": "2011"}


def test_large_delivery_is_split_under_the_size_limit_rows_kept_in_order() -> None:
    rows = _rows(500)
    messages = _encode([Delivery("http", "GW-7", rows, GW)], max_bytes=8_000)
    assert len(messages) > 5
    assert all(len(m.body) <= 8_000 for m in messages)
    assert len({m.subject for m in messages}) == 1  # one gateway, one partition
    back = [r for m in messages for d in decode(m.body).deliveries for r in d.rows]
    assert back == rows
    assert sum(m.readings for m in messages) == 500


def test_message_id_is_the_content_without_the_receive_time() -> None:
    d = [Delivery("http", "GW-7", _rows(4), GW)]
    first = _encode(d)[0]
    again = _encode(d, at=AT + timedelta(seconds=30))[0]
    other = _encode([Delivery("http", "GW-7", _rows(5), GW)])[0]
    assert first.msg_id == again.msg_id
    assert first.body != again.body
    assert other.msg_id != first.msg_id


def test_partition_is_stable_and_within_range() -> None:
    subjects = {partition_subject("kw.r", f"GW-{i}", 4) for i in range(100)}
    assert subjects == {f"kw.r.{i}" for i in range(4)}
    assert partition_subject("kw.r", "GW-1", 4) == partition_subject("kw.r", "GW-1", 4)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"v": 2, "received_at": "2026-11-28T04:30:00+00:00", "deliveries": []}',
        b'{"v": 1, "received_at": "yesterday", "deliveries": []}',
        json.dumps({"v": 1, "received_at": AT.isoformat(), "deliveries": [
            {"source": "http", "source_ref": "x", "gateway": None, "rows": [[1, 2]]}]}).encode(),
        json.dumps({"v": 1, "received_at": AT.isoformat(), "deliveries": [
            {"source": "http", "source_ref": "x", "gateway": [1], "rows": []}]}).encode(),
    ],
)  # fmt: skip
def test_unreadable_messages_are_refused_with_their_code(body: bytes) -> None:
    with pytest.raises(InputError) as caught:
        decode(body)
    assert caught.value.code == MALFORMED


def test_server_lists() -> None:
    assert parse_servers("nats://a:4222, b:4223") == ("nats://a:4222", "nats://b:4223")
    for bad in ("", "http://a:80", "nats://"):
        with pytest.raises(ValueError):
            parse_servers(bad)
