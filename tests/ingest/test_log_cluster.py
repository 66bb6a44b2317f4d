"""The three-node fault test of the ingest log (issue 20): exactly-once storage on PostgreSQL
while a JetStream node and a writer are killed mid-stream.

A private cluster of three ``nats-server`` nodes (JetStream, loopback ports, own store
directories) carries the stream with three replicas. The HTTP front end (the real app, with
``ingest_log`` set) receives a stream of readings from a gateway; two writer processes
(``kilnwatch ingest writer``) store them into a database of this test. Mid-stream, the writer
that holds unacknowledged messages is killed with SIGKILL and so is the node leading the
stream. Every request must still be answered 202 (the publisher retries with the same message
id while the cluster elects a new leader), and in the end every reading is stored exactly
once: as many rows as readings sent, one version each, the per-meter counts and sums of what
was sent, the consumer empty, and the killed writer's messages redelivered to the survivor.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import nats
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kilnwatch.config import Settings
from kilnwatch.ingest.log.stream import DEFAULT_CONSUMER, DEFAULT_STREAM
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import DeadLetter
from log_support import GATEWAY, Writer, expected_sum, reading, setup_meters, stored, wait_for
from nats_servers import NatsCluster, running

METERS = 8
REQUESTS = 90
PER_METER = 5  # readings of each meter in one request: 40 a request, 3 600 in all
KILL_AFTER = 30  # requests answered before the faults
ACK_WAIT_S = 3


def _stream_state(cluster: NatsCluster) -> tuple[str, int, int, int]:
    """Leader, replicas, and the consumer's pending and unacknowledged messages."""

    async def ask() -> tuple[str, int, int, int]:
        alive = [n.url for n in cluster.nodes if n.alive()]
        client = await nats.connect(servers=alive, connect_timeout=2)
        try:
            js = client.jetstream(timeout=5)
            info = await js.stream_info(DEFAULT_STREAM)
            consumer = await js.consumer_info(DEFAULT_STREAM, DEFAULT_CONSUMER)
            assert info.cluster is not None and info.cluster.leader is not None
            return (info.cluster.leader, info.config.num_replicas or 1,
                    consumer.num_pending or 0, consumer.num_ack_pending or 0)  # fmt: skip
        finally:
            await client.close()

    return asyncio.run(ask())


def _body(request: int, codes: list[str]) -> dict[str, object]:
    return {"readings": [reading(c, request * PER_METER + i) for c in codes
                         for i in range(PER_METER)]}  # fmt: skip


@pytest.mark.postgres
@pytest.mark.slow
def test_node_and_writer_killed_mid_stream_every_reading_stored_once(
    own_pg_database: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=own_pg_database, environment="test", var_dir=tmp_path)
    engine: Engine = make_engine(settings)
    upgrade(engine)
    codes = setup_meters(engine, METERS)
    with running(tmp_path / "nats", nodes=3, name="kwfault") as cluster:
        env = {**os.environ, "KILNWATCH_DATABASE_URL": own_pg_database,
               "KILNWATCH_ENVIRONMENT": "test", "KILNWATCH_VAR_DIR": str(tmp_path)}  # fmt: skip
        app_settings = settings.model_copy(update={"ingest_log": cluster.servers})
        from kilnwatch.web.app import create_app

        app = create_app(app_settings)
        writers: list[Writer] = []
        try:
            with TestClient(app) as client:  # its start-up creates the stream (R=3)
                args = ["--batch", "20", "--ack-wait-s", str(ACK_WAIT_S)]
                writers = [Writer(f"w{i}", cluster.servers, env, tmp_path / f"w{i}.log", args)
                           for i in range(2)]  # fmt: skip
                wait_for(lambda: all(w.healthy() for w in writers), 60, "two writers")
                leader, replicas, _, _ = _stream_state(cluster)
                assert replicas == 3
                faults = _Faults(writers, cluster, leader)
                for n in range(REQUESTS):
                    if n == KILL_AFTER:
                        faults.start()
                    if n == KILL_AFTER + 10:
                        faults.join()  # the rest is sent to a cluster of two
                    r = client.post("/api/v1/ingest/readings", json=_body(n, codes), auth=GATEWAY)
                    assert r.status_code == 202, r.text
                victim, survivor = faults.killed_writer, faults.survivor
                assert not cluster.node(leader).alive()
                assert victim.proc.returncode == -9
                total = REQUESTS * PER_METER * METERS
                wait_for(lambda: stored(engine).rows >= total, 90, f"{total} stored readings")
                wait_for(lambda: _stream_state(cluster)[2:] == (0, 0), 30, "an empty consumer")
                redelivered = survivor.metric("kilnwatch_log_redeliveries_total")
                held_by_victim = faults.in_flight
        finally:
            for w in writers:
                w.stop()
            app.state.engine.dispose()
    held = stored(engine)
    assert held.rows == held.distinct == REQUESTS * PER_METER * METERS
    assert held.max_version == 1
    per_meter = REQUESTS * PER_METER
    assert held.by_meter == {c: (per_meter, expected_sum(per_meter)) for c in codes}
    with make_session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(DeadLetter)) == 0
    assert held_by_victim > 0
    assert redelivered >= 1, "the killed writer's messages came again to the survivor"
    engine.dispose()


class _Faults(threading.Thread):
    """Kills, while requests keep coming, the writer that holds messages, then the node
    leading the stream."""

    def __init__(self, writers: list[Writer], cluster: NatsCluster, leader: str) -> None:
        super().__init__(daemon=True)
        self.writers, self.cluster, self.leader = writers, cluster, leader
        self.killed_writer = self.survivor = writers[0]
        self.in_flight = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                for i, w in enumerate(self.writers):
                    held = w.metric("kilnwatch_log_messages_in_flight")
                    if held > 0:
                        w.proc.kill()
                        w.proc.wait(10)
                        self.killed_writer, self.survivor = w, self.writers[1 - i]
                        self.in_flight = held
                        break
                else:
                    time.sleep(0.005)
                    continue
                break
            self.cluster.kill(self.leader)
        except BaseException as exc:  # reported by join()
            self.error = exc

    def join(self, timeout: float | None = 60) -> None:
        super().join(timeout)
        if self.error is not None:
            raise self.error
