"""HJ 212 into the database: registry devices, hashed passwords, reply after commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from kilnwatch.ingest.hj212 import encode_data_frame
from kilnwatch.ingest.hj212_store import DbDeviceDirectory, DbFrameSink, StoreBackedServer
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import DeadLetter, Meter, Reading
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
MN, PW = "88888880000001", "s3cret-jn-212"


@pytest.fixture
def factory(engine: Engine):  # type: ignore[no-untyped-def]
    f = make_session_factory(engine)
    with unit_of_work(f) as session:
        import_registry(session, REGISTRY)
    return f


async def _exchange(port: int, frames: list[bytes]) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies = []
    for frame in frames:
        writer.write(frame)
        await writer.drain()
        try:
            replies.append(await asyncio.wait_for(reader.readuntil(b"\r\n"), 1))
        except TimeoutError:
            replies.append(b"")
    writer.close()
    await writer.wait_closed()
    return replies


def test_frames_are_stored_then_acknowledged(factory) -> None:  # type: ignore[no-untyped-def]
    directory = DbDeviceDirectory(factory)
    sink = DbFrameSink(factory, directory, POLICY, max_delay_ms=5)
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    def frame(pw: str, minutes: int, so2: float) -> bytes:
        values = {"a21026": (so2, "N"), "a21002": (40.0, "N")}
        return encode_data_frame(mn=MN, pw=pw, cn="2011", values=values,
                                 data_time=when + timedelta(minutes=minutes))  # fmt: skip

    async def scenario() -> list[bytes]:
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            frames = [frame(PW, 0, 12.5), frame(PW, 1, 13.0), frame("wrong", 2, 99.0),
                      frame(PW, 0, 12.5)]  # fmt: skip
            replies = await _exchange(server.port, frames)
            await sink.close()
        assert server.stats.frames_rejected["bad_password"] == 1
        return replies

    replies = asyncio.run(scenario())
    assert [bool(r) for r in replies] == [True, True, False, True]
    assert all(b"CN=9014" in r for r in replies if r)
    with factory() as s:
        so2 = s.scalar(select(Meter.id).where(Meter.code == "M-JN-SO2"))
        values = s.scalars(select(Reading.value).where(Reading.meter_id == so2)).all()
        reasons = s.scalars(select(DeadLetter.reason)).all()
    assert sorted(values) == [12.5, 13.0]
    assert reasons == ["ingest.unknown_meter"] * 3  # a21002 (NOx) has no meter


def _with_modbus_crc(frame: bytes) -> bytes:
    """The same frame with the plain CRC-16/MODBUS some devices send instead of HJ 212's."""
    from kilnwatch.ingest.hj212.crc import crc_modbus

    length = int(frame[2:6])
    segment = frame[6 : 6 + length]
    return frame[: 6 + length] + b"%04X" % crc_modbus(segment) + b"\r\n"


@pytest.mark.parametrize(("compat", "stored"), [(None, False), ("crc_modbus", True)])
def test_registry_gateway_compat_decides_modbus_crc(factory, compat, stored) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    """Strict by default; a gateway registered with ``hj212_compat=crc_modbus`` may send the
    MODBUS variant."""
    from kilnwatch.store.models import Gateway

    with unit_of_work(factory) as session:
        gateway = session.scalar(select(Gateway).where(Gateway.mn == MN))
        assert gateway is not None
        gateway.hj212_compat = compat
    directory = DbDeviceDirectory(factory)
    sink = DbFrameSink(factory, directory, POLICY, max_delay_ms=5)
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    frame = encode_data_frame(mn=MN, pw=PW, cn="2011", values={"a21026": (7.0, "N")},
                              data_time=when)  # fmt: skip

    async def scenario() -> list[bytes]:
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            replies = await _exchange(server.port, [_with_modbus_crc(frame)])
            await sink.close()
        assert server.stats.frames_rejected["crc"] == (0 if stored else 1)
        return replies

    replies = asyncio.run(scenario())
    assert bool(replies[0]) is stored
    with factory() as s:
        assert len(s.scalars(select(Reading.value)).all()) == (1 if stored else 0)
