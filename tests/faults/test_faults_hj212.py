"""The HJ 212 receiver while PostgreSQL restarts (issue 22), on a private cluster: a data
logger sends each upload until it is answered (HJ 212-2017 §6: no reply within the timeout →
send again); the receiver answers (9014) only after the commit, so a frame whose commit failed
while the server was down goes unanswered and is sent again. Figures: frames sent,
acknowledged, resent, readings stored, doubled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fault_ingest import REGISTRY, ROUNDS, USCC, stored
from fault_servers import PrivatePostgres
from sqlalchemy import select

from kilnwatch.config import Settings
from kilnwatch.ingest.hj212 import encode_data_frame
from kilnwatch.ingest.hj212_store import DbDeviceDirectory, DbFrameSink, StoreBackedServer
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Meter
from kilnwatch.store.seed import seed_regions
from zone import POLICY

MN, PW = "88888880000001", "s3cret-jn-212"  # the fixture registry's HJ 212 gateway
LOGGERS = 2  # connections of the device, each with its own uploads
PER_ROUND = 60  # uploads per logger between two restarts
REPLY_TIMEOUT_S = 1.0  # the logger's answer timeout before it sends the upload again
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=2)


class Logger:
    """One connection of a data logger: uploads one after the other, each until answered."""

    def __init__(self, index: int, frames: int) -> None:
        self.uploads = [self._frame(index + LOGGERS * k) for k in range(frames)]
        self.acked: set[str] = set()
        self.resent = 0

    @staticmethod
    def _frame(n: int) -> tuple[str, bytes]:
        when = T0 + timedelta(minutes=n)
        qn = f"{when.astimezone(UTC):%Y%m%d%H%M%S}{n % 1000:03d}"
        return qn, encode_data_frame(mn=MN, pw=PW, cn="2011", data_time=when, qn=qn,
                                     values={"a21026": (10.0 + n % 13, "N")})  # fmt: skip

    async def run(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for qn, frame in self.uploads:
                while qn not in self.acked:
                    writer.write(frame)
                    await writer.drain()
                    try:
                        await asyncio.wait_for(self._answer(reader, qn), REPLY_TIMEOUT_S)
                    except TimeoutError:
                        self.resent += 1  # not answered: the commit failed; send it again
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, qn: str) -> None:
        """Read replies until the one for ``qn`` (a late answer of an earlier upload, sent
        again before it came, is skipped)."""
        while True:
            line = await reader.readuntil(b"\r\n")
            if b"CN=9014" in line and f"QN={qn}".encode() in line:
                self.acked.add(qn)
                return


async def _restarts(pg: PrivatePostgres, loggers: list[Logger], server: StoreBackedServer) -> int:
    """Stop and start PostgreSQL once per round, mid-stream; the downtime failures seen."""
    failures = 0
    for r in range(ROUNDS):
        while sum(len(lg.acked) for lg in loggers) < (r + 0.5) * PER_ROUND * LOGGERS:
            await asyncio.sleep(0.02)
        before = server.stats.commit_failures
        await asyncio.to_thread(pg.stop, "fast")  # sessions ended: the pool's connections die
        while server.stats.commit_failures == before:  # uploads arrive and fail meanwhile
            await asyncio.sleep(0.02)
        await asyncio.to_thread(pg.start)
        failures += server.stats.commit_failures - before
    return failures


def test_hj212_receiver_through_a_postgresql_restart(fault_postgres: PrivatePostgres) -> None:
    pg = fault_postgres
    engine = make_engine(Settings(database_url=pg.url, environment="test"))
    upgrade(engine)
    with engine.begin() as conn:
        seed_regions(conn)
    factory = make_session_factory(engine)
    with factory() as session:
        if session.scalar(select(Enterprise).where(Enterprise.uscc == USCC)) is None:
            import_registry(session, REGISTRY)  # (another fault test may have)
            session.commit()
        meter_id = session.scalar(select(Meter.id).where(Meter.code == "M-JN-SO2"))
    assert meter_id is not None
    loggers = [Logger(i, PER_ROUND * ROUNDS) for i in range(LOGGERS)]

    async def scenario() -> tuple[int, dict[str, object]]:
        directory = DbDeviceDirectory(factory)
        directory.reload()
        sink = DbFrameSink(factory, directory, POLICY, max_delay_ms=5)
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            restarts = asyncio.create_task(_restarts(pg, loggers, server))
            await asyncio.wait_for(
                asyncio.gather(*(lg.run(server.port) for lg in loggers)), 120 * ROUNDS
            )
            failures = await restarts
            await sink.close()
        return failures, server.stats.snapshot()

    failures, stats = asyncio.run(scenario())
    rows, times, version = stored(engine, meter_id)
    engine.dispose()
    sent = sum(len(lg.uploads) for lg in loggers)
    acked = sum(len(lg.acked) for lg in loggers)
    resent = sum(lg.resent for lg in loggers)
    figure = {"restarts": ROUNDS, "uploads": sent, "acknowledged": acked,
              "resent_unanswered": resent, "commit_failures": failures,
              "readings_stored": times, "readings_doubled": rows - times,
              "max_version": version}  # fmt: skip
    print(f"\nFIGURE postgres_restart_hj212: {figure}")
    assert failures >= ROUNDS and resent >= ROUNDS  # the fault was met, uploads sent again
    assert acked == sent  # every upload answered in the end
    assert times == rows == sent and version == 1  # each acknowledged reading once
    assert stats["frames_rejected"] == {}  # nothing refused: only unanswered and sent again
