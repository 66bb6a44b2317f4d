"""HJ 212 into the database on the fast paths: concurrent group commits, cached devices."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.identity import hash_secret
from kilnwatch.ingest.hj212 import encode_data_frame
from kilnwatch.ingest.hj212_store import DbDeviceDirectory, DbFrameSink, StoreBackedServer
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import DeadLetter, Gateway, IngestBatch, Meter, Reading
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
MN, PW = "88888880000001", "s3cret-jn-212"
WHEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    f = make_session_factory(engine)
    with unit_of_work(f) as session:
        import_registry(session, REGISTRY)
    return f


def _frame(minute: int, so2: float, pw: str = PW) -> bytes:
    return encode_data_frame(mn=MN, pw=pw, cn="2011", values={"a21026": (so2, "N")},
                             data_time=WHEN + timedelta(minutes=minute))  # fmt: skip


async def _send_all(port: int, frames: list[bytes], timeout_s: float = 5) -> list[bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies = []
    for frame in frames:
        writer.write(frame)
        try:
            replies.append(await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout_s))
        except TimeoutError:
            replies.append(b"")
    writer.close()
    await writer.wait_closed()
    return replies


def _so2_values(factory: sessionmaker[Session]) -> list[float]:
    with factory() as s:
        so2 = s.scalar(select(Meter.id).where(Meter.code == "M-JN-SO2"))
        return sorted(s.scalars(select(Reading.value).where(Reading.meter_id == so2)).all())


def test_concurrent_group_commits_store_once_and_ack_each(factory) -> None:  # type: ignore[no-untyped-def]
    directory = DbDeviceDirectory(factory)
    sink = DbFrameSink(factory, directory, POLICY, max_batch_frames=3, max_delay_ms=1, writers=2)
    per_conn = [[_frame(c * 10 + i, float(c * 10 + i)) for i in range(4)] for c in range(6)]
    # connections 0-2 send again what 3-5 send (a device re-delivering on another socket)
    per_conn += [list(frames) for frames in per_conn[:3]]

    async def scenario() -> list[list[bytes]]:
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            replies = await asyncio.gather(*(_send_all(server.port, f) for f in per_conn))
            await sink.close()
        assert server.stats.frames_committed == 36
        return list(replies)

    replies = asyncio.run(scenario())
    assert all(b"CN=9014" in r for conn in replies for r in conn)
    assert _so2_values(factory) == sorted(float(c * 10 + i) for c in range(6) for i in range(4))
    assert sink.groups_committed >= 12  # at most 3 frames per group
    with factory() as s:
        batches = s.scalars(select(IngestBatch)).all()
        assert sum(b.accepted for b in batches) == 24
        assert sum(b.duplicates for b in batches) == 12
        assert s.scalar(select(func.count()).select_from(DeadLetter)) == 0


def test_devices_are_cached_until_reload_and_secret_change_applies(factory) -> None:  # type: ignore[no-untyped-def]
    directory = DbDeviceDirectory(factory)
    directory.verify(MN, PW)
    first = directory.lookup(MN)
    assert first is not None and first.password == PW
    directory.verify(MN, PW)
    assert directory.lookup(MN) is first  # no object per frame
    directory.verify(MN, "wrong")
    assert directory.lookup(MN) is first
    generation = directory.generation
    with unit_of_work(factory) as s:
        gateway = s.scalars(select(Gateway).where(Gateway.mn == MN)).one()
        gateway.secret_hash = hash_secret("rotated-secret")
    directory.reload()
    assert directory.generation == generation + 1
    directory.verify(MN, PW)  # the old secret no longer opens the device
    after = directory.lookup(MN)
    assert after is not None and after.password != PW
    directory.verify(MN, "rotated-secret")
    rotated = directory.lookup(MN)
    assert rotated is not None and rotated.password == "rotated-secret"


def test_meter_cache_follows_directory_reload(factory) -> None:  # type: ignore[no-untyped-def]
    directory = DbDeviceDirectory(factory)
    sink = DbFrameSink(factory, directory, POLICY, max_delay_ms=1, writers=1)
    nox = encode_data_frame(mn=MN, pw=PW, cn="2011", values={"a21002": (41.0, "N")},
                            data_time=WHEN)  # fmt: skip

    async def send(frame: bytes) -> list[bytes]:
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            replies = await _send_all(server.port, [frame])
        return replies

    assert b"CN=9014" in asyncio.run(send(nox))[0]
    with unit_of_work(factory) as s:
        so2 = s.scalars(select(Meter).where(Meter.code == "M-JN-SO2")).one()
        s.add(Meter(code="M-JN-NOX", enterprise_id=so2.enterprise_id, carrier="nox",
                    level="equipment", measurement="instant", unit_of_measure="mg/m3",
                    gateway_id=so2.gateway_id, hj212_code="a21002"))  # fmt: skip
    directory.reload()
    later = encode_data_frame(mn=MN, pw=PW, cn="2011", values={"a21002": (42.0, "N")},
                              data_time=WHEN + timedelta(minutes=1))  # fmt: skip
    assert b"CN=9014" in asyncio.run(send(later))[0]
    asyncio.run(sink.close())
    with factory() as s:
        nox_id = s.scalar(select(Meter.id).where(Meter.code == "M-JN-NOX"))
        stored = s.scalars(select(Reading.value).where(Reading.meter_id == nox_id)).all()
        reasons = s.scalars(select(DeadLetter.reason)).all()
    assert stored == [42.0]
    assert reasons == ["ingest.unknown_meter"]


def test_password_scrypt_runs_once_per_secret_across_connections_and_reloads(factory) -> None:  # type: ignore[no-untyped-def]
    directory = DbDeviceDirectory(factory)
    sink = DbFrameSink(factory, directory, POLICY, max_delay_ms=1, writers=1)
    right = [[_frame(c, float(c))] for c in range(8)]
    wrong = [[_frame(10 + c, 1.0, pw="not-the-secret")] for c in range(4)]

    async def burst(conns: list[list[bytes]]) -> list[list[bytes]]:
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            replies = await asyncio.gather(*(_send_all(server.port, f, 1.0) for f in conns))
            await sink.close()
        return list(replies)

    replies = asyncio.run(burst(right + wrong))
    assert all(b"CN=9014" in r[0] for r in replies[:8])
    assert all(r == [b""] for r in replies[8:])  # bad password: no reply, nothing stored
    assert directory.secrets.checks == 2  # one scrypt for the right secret, one for the wrong
    directory.reload()  # drops the devices, not the outcomes of the checks
    replies = asyncio.run(burst([[_frame(30, 3.0)], [_frame(31, 1.0, pw="not-the-secret")]]))
    assert b"CN=9014" in replies[0][0] and replies[1] == [b""]
    assert directory.secrets.checks == 2
    assert _so2_values(factory) == sorted([float(c) for c in range(8)] + [3.0])


def test_a_slow_password_check_does_not_hold_up_verified_devices(factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    import kilnwatch.ingest.gateways as gateways

    directory = DbDeviceDirectory(factory)
    directory.verify(MN, PW)
    release = threading.Event()
    real = gateways.verify_secret

    def held(secret: str, stored: str | None) -> bool:
        release.wait(10)
        return real(secret, stored)

    monkeypatch.setattr(gateways, "verify_secret", held)
    sink = DbFrameSink(factory, directory, POLICY, max_delay_ms=1, writers=1)

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            blocked = asyncio.create_task(_send_all(server.port, [_frame(1, 1.0, pw="guess")], 1.0))
            await asyncio.sleep(0.05)  # the guess is now in its scrypt check, held
            verified = await _send_all(server.port, [_frame(2, 2.0)])
            assert not blocked.done()
            release.set()
            guessed = await blocked
            await sink.close()
        return verified, guessed

    verified, guessed = asyncio.run(scenario())
    assert b"CN=9014" in verified[0]
    assert guessed == [b""]
