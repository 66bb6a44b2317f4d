"""The per-frame fast paths give the results of the straightforward code they replace."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilnwatch.ingest.hj212 import Device, HJ212Server, InMemoryDeviceDirectory, Packet
from kilnwatch.ingest.hj212.records import meter_for, meter_keys
from kilnwatch.ingest.hj212.timefmt import CHINA_STANDARD_TIME, parse_data_time
from kilnwatch.ingest.hj212.workers import merge_counters, reserve_port


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_data_time_matches_strptime(text: str) -> None:
    try:
        expected: datetime | None = datetime.strptime(text, "%Y%m%d%H%M%S").replace(
            tzinfo=CHINA_STANDARD_TIME
        )
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            parse_data_time(text)
    else:
        assert parse_data_time(text) == expected


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)))
def test_data_time_round_trip_with_millis(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    text = moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"
    tz = timezone(timedelta(hours=5))
    assert parse_data_time(text, tz) == moment.replace(tzinfo=tz)


@pytest.mark.parametrize("text", ["2025022910000", "20250229100000", "2025013124600", "x" * 14])
def test_data_time_rejects_impossible_stamps(text: str) -> None:
    with pytest.raises(ValueError):
        parse_data_time(text)


def test_meter_keys_most_specific_first_and_2005_codes() -> None:
    assert meter_keys("a21026", "Rtd") == ("a21026-Rtd", "a21026")
    assert meter_keys("a21026", "ZsAvg") == ("a21026-ZsAvg", "a21026-Zs")
    assert meter_keys("02", "Rtd") == ("02-Rtd", "02", "a21026-Rtd", "a21026")
    device = Device(mn="M", password="p", meters={"a21026": "SO2", "a21026-Cou": "SO2-C"})
    assert meter_for(device, "02", "Rtd") == "SO2"
    assert meter_for(device, "a21026", "Cou") == "SO2-C"
    assert meter_for(device, "a21026", "ZsRtd") is None


def test_merge_counters_of_processes() -> None:
    a = {"frames_ok": 3, "frames_rejected": {"crc": 1}, "frames_compat": {}}
    b = {"frames_ok": 4, "frames_rejected": {"crc": 2, "syntax": 1}, "frames_compat": {}}
    assert merge_counters([a, b]) == {
        "frames_ok": 7,
        "frames_rejected": {"crc": 3, "syntax": 1},
        "frames_compat": {},
    }


class _NullSink:
    async def commit(self, device: Device, packet: Packet, received_at: datetime) -> None:
        del device, packet, received_at


def test_two_servers_share_a_port_with_reuse_port() -> None:
    holder = reserve_port("127.0.0.1", 0)
    port = int(holder.getsockname()[1])

    async def scenario() -> None:
        devices = InMemoryDeviceDirectory([Device(mn="M", password="p")])
        servers = [
            HJ212Server(devices, _NullSink(), host="127.0.0.1", port=port, reuse_port=True)
            for _ in range(2)
        ]
        for server in servers:
            await server.start()
        try:
            assert {s.port for s in servers} == {port}
            conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(8)]
            await asyncio.sleep(0.05)
            assert sum(s.stats.connections_opened for s in servers) == 8
            for _, writer in conns:
                writer.close()
        finally:
            for server in servers:
                await server.close()

    try:
        asyncio.run(scenario())
    finally:
        holder.close()
    with socket.socket() as probe:  # the port is free again once every socket closed
        probe.bind(("127.0.0.1", port))
