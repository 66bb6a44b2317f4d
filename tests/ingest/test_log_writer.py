"""The ingest log on one private JetStream server: front ends publish, writers store once.

On both databases: deliveries published through :class:`LogPublisher` are stored by a
:class:`LogWriter` with the pipeline's outcome (rejections dead-lettered), a message
published again within the duplicate window is kept once by JetStream, the same readings in
a different message are stored nothing twice (the store's key), an unreadable message is
dead-lettered and acknowledged; the HTTP front end answers 202 once JetStream has its
readings; every process serves /metrics and /healthz.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import nats
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select

from kilnwatch.config import Settings
from kilnwatch.ingest.log.codec import decode, partition_subject
from kilnwatch.ingest.log.publisher import LogPublisher
from kilnwatch.ingest.log.stream import LogOptions, consumer_config, ensure_stream
from kilnwatch.ingest.log.writer import LogWriter, WriterOptions, message_id
from kilnwatch.ingest.payloads import parse_json_readings
from kilnwatch.ingest.pipeline import Delivery, RejectedDelivery, ingest_readings
from kilnwatch.ingest.validate import GatewayInfo, RawReading
from kilnwatch.metrics import serve_metrics
from kilnwatch.store.engine import make_session_factory
from kilnwatch.store.models import DeadLetter, IngestBatch, LogInbox, Meter, Reading
from log_support import (
    GATEWAY,
    expected_sum,
    reading,
    setup_meters,
    stored,
    unique_log,
    wait_for,
    writer_thread,
)
from nats_servers import NatsCluster, running
from zone import POLICY


@pytest.fixture(scope="module")
def nats_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    with running(tmp_path_factory.mktemp("nats"), nodes=1, name="kwlog") as cluster:
        yield cluster


@pytest.fixture
def log(nats_node: NatsCluster) -> LogOptions:
    return unique_log(nats_node.urls, ack_wait_s=2.0)


def _gateway(engine: Engine) -> GatewayInfo:
    from kilnwatch.ingest.gateways import gateway_by_code

    with make_session_factory(engine)() as s:
        entry = gateway_by_code(s, GATEWAY[0])
    assert entry is not None
    return entry.gateway


def _delivery(gateway: GatewayInfo, codes: list[str], start: int, n: int) -> Delivery:
    body = {"readings": [reading(c, i) for c in codes for i in range(start, start + n)]}
    return Delivery("http", gateway.code, parse_json_readings(json.dumps(body)), gateway)


def test_published_deliveries_are_stored_once(engine: Engine, log: LogOptions) -> None:
    codes = setup_meters(engine, 3)
    gateway = _gateway(engine)
    first = _delivery(gateway, codes, 0, 40)
    bad_row = Delivery("http", gateway.code, parse_json_readings(
        '{"readings": [{"meter_code": "NOPE", "ts": "2026-01-01T00:00:00+00:00", "value": 1}]}'
    ), gateway)  # fmt: skip
    unknown = RejectedDelivery("mqtt", "kilnwatch/v1/GW-X/readings", "ingest.unknown_gateway",
                               "no active mqtt gateway", '{"readings": []}')  # fmt: skip
    publisher = LogPublisher(log)
    try:
        sent = publisher.publish([first, bad_row], [unknown])
        assert (sent.readings, sent.duplicate_messages) == (121, 0)
        again = publisher.publish([first, bad_row], [unknown])  # a front end's retry
        assert again.duplicate_messages == again.messages == sent.messages
        # the same readings in another message (e.g. a gateway's resend): JetStream keeps it,
        # the store recognises every reading
        overlap = publisher.publish([_delivery(gateway, codes, 20, 40)])
        assert overlap.duplicate_messages == 0
    finally:
        publisher.close()
    with writer_thread(engine, log) as writer:
        wait_for(lambda: writer.stats.messages["stored"] >= sent.messages + overlap.messages, 30,
                 "the writer to store every message")  # fmt: skip
    assert writer.stats.readings.accepted == 3 * 60
    assert writer.stats.readings.duplicates == 3 * 20
    held = stored(engine)
    assert (held.rows, held.distinct, held.max_version) == (180, 180, 1)
    assert held.by_meter == {c: (60, expected_sum(60)) for c in codes}
    with make_session_factory(engine)() as s:
        letters = sorted(s.scalars(select(DeadLetter.reason)))
        assert letters == ["ingest.unknown_gateway", "ingest.unknown_meter"]
        assert s.scalar(select(IngestBatch.source_ref).limit(1)).startswith("log http:")


def test_unreadable_message_is_dead_lettered_and_acknowledged(
    engine: Engine, log: LogOptions
) -> None:
    async def publish_garbage() -> None:
        client = await nats.connect(servers=list(log.servers))
        js = client.jetstream()
        from kilnwatch.ingest.log.stream import stream_config

        await js.add_stream(stream_config(log, 1))
        await js.publish(f"{log.subject}.0", b'{"v": 1, "source":"mqtt", "rows": 3')
        await client.close()

    asyncio.run(publish_garbage())
    with writer_thread(engine, log) as writer:
        wait_for(lambda: writer.stats.messages["stored"] == 1, 30, "the writer to take the message")
    assert writer.stats.messages["malformed"] == 1
    with make_session_factory(engine)() as s:
        letter = s.scalars(select(DeadLetter)).one()
    assert letter.reason == "ingest.log_malformed"
    assert letter.source_ref == f"log {log.stream}:1"
    assert letter.source == 3  # "mqtt", read from the legible part of the message


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_http_front_end_publishes_and_answers_after_jetstream(
    settings: Settings, engine: Engine, nats_node: NatsCluster
) -> None:
    from kilnwatch.web.app import create_app

    codes = setup_meters(engine, 2)
    log = unique_log(nats_node.urls)
    app = create_app(settings.model_copy(update={"ingest_log": nats_node.servers}))
    body = {"readings": [reading(c, i) for c in codes for i in range(25)]}
    with TestClient(app) as client:
        # the app's publisher uses the default stream; point it at this test's stream
        app.state.ingest_log.close()
        app.state.ingest_log = LogPublisher(log, "kilnwatch-web-test")
        r = client.post("/api/v1/ingest/readings", json=body, auth=GATEWAY)
        assert r.status_code == 202, r.text
        assert r.json() == {"received": 50, "published": 50, "messages": 1,
                            "duplicate_messages": 0}  # fmt: skip
        assert stored(engine).rows == 0  # nothing stored by the front end itself
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok", "ingest_log": "ok"}
        metrics = client.get("/metrics").text
        assert 'kilnwatch_ingest_readings_published_total{source="http"}' in metrics
        app.state.ingest_log.close()
    app.state.engine.dispose()
    with writer_thread(engine, log) as writer:
        wait_for(lambda: writer.stats.messages["stored"] == 1, 30, "the writer to store it")
    held = stored(engine)
    assert held.by_meter == {c: (25, expected_sum(25)) for c in codes}


def test_metrics_endpoint_of_processes_without_a_web_server() -> None:
    healthy = [True]
    endpoint = serve_metrics(0, lambda: healthy[0], host="127.0.0.1")
    assert endpoint is not None
    try:
        base = f"http://127.0.0.1:{endpoint.port}"
        text = httpx.get(f"{base}/metrics").text
        for name in (
            "kilnwatch_ingest_readings_received_total",
            "kilnwatch_ingest_batch_commit_seconds_bucket",
            "kilnwatch_log_redeliveries_total",
            "kilnwatch_log_consumer_pending",
        ):
            assert name in text
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        healthy[0] = False
        assert httpx.get(f"{base}/healthz").status_code == 503
        assert httpx.get(f"{base}/other").status_code == 404
    finally:
        endpoint.close()


def test_received_at_travels_with_the_message(engine: Engine, log: LogOptions) -> None:
    codes = setup_meters(engine, 1)
    at = datetime(2026, 11, 28, 4, 0, tzinfo=UTC).replace(microsecond=0)
    publisher = LogPublisher(log)
    try:
        publisher.publish([_delivery(_gateway(engine), codes, 0, 5)], received_at=at)
    finally:
        publisher.close()
    with writer_thread(engine, log) as writer:
        wait_for(lambda: writer.stats.messages["stored"] == 1, 30, "the writer")
    with make_session_factory(engine)() as s:
        batch = s.scalars(select(IngestBatch)).one()
    assert batch.received_at == at


def test_writer_groups_per_partition_take_only_their_subject(
    engine: Engine, nats_node: NatsCluster
) -> None:
    codes = setup_meters(engine, 2)
    gateway = _gateway(engine)
    base = unique_log(nats_node.urls, partitions=2)
    mine = int(partition_subject(base.subject, gateway.code, 2).rsplit(".", 1)[1])
    publisher = LogPublisher(base)
    try:
        sent = publisher.publish([_delivery(gateway, codes, 0, 30)])
    finally:
        publisher.close()
    other = dataclasses.replace(base, partition=1 - mine, consumer=f"{base.consumer}-o")
    with writer_thread(engine, other) as idle:
        time.sleep(1.5)  # several empty fetches
    assert idle.stats.messages["stored"] == 0 and stored(engine).rows == 0
    own = dataclasses.replace(base, partition=mine, consumer=f"{base.consumer}-m")
    with writer_thread(engine, own) as writer:
        wait_for(lambda: writer.stats.messages["stored"] == sent.messages, 30, "the writer")
    assert stored(engine).by_meter == {c: (30, expected_sum(30)) for c in codes}
    with pytest.raises(ValueError, match="partition"):
        dataclasses.replace(base, partition=2)


def test_redelivery_after_a_correction_is_recognised_by_the_inbox(
    engine: Engine, nats_node: NatsCluster
) -> None:
    """A writer commits two messages and dies before acknowledging them; a correction of
    their readings is stored meanwhile; the redelivered messages come to a new writer. The
    one whose id is in the inbox is skipped (the correction stays the latest version); the
    one whose inbox row expired is stored again as a new version (the dedup by value alone:
    what the inbox prevents). An inbox row older than the horizon is deleted."""
    log = unique_log(nats_node.urls, ack_wait_s=0.3, duplicate_window_s=1.0,
                     inbox_horizon_s=3600.0)  # fmt: skip
    kept, expired = setup_meters(engine, 2)
    gateway = _gateway(engine)
    publisher = LogPublisher(log)
    try:
        for code in (kept, expired):  # one message each
            assert publisher.publish([_delivery(gateway, [code], 0, 5)]).messages == 1
    finally:
        publisher.close()
    crashed = LogWriter(make_session_factory(engine), log, WriterOptions(), POLICY)

    async def store_without_ack() -> dict[str | None, str]:
        client = await nats.connect(servers=list(log.servers))
        js = await ensure_stream(client, log)
        sub = await js.pull_subscribe(log.consumer_subject, durable=log.consumer,
                                      stream=log.stream, config=consumer_config(log))  # fmt: skip
        msgs = await sub.fetch(10, timeout=5)
        crashed.store(msgs)  # committed; the acknowledgements are never sent
        await client.close()
        return {decode(m.data).deliveries[0].rows[0].meter_code: message_id(m) for m in msgs}

    ids = asyncio.run(store_without_ack())
    assert set(ids) == {kept, expired}
    correction = [RawReading(code, reading(code, i)["ts"], 99.0, "m3", None)
                  for code in (kept, expired) for i in range(5)]  # fmt: skip
    old = datetime.now(UTC) - timedelta(hours=2)
    with make_session_factory(engine)() as s:
        assert ingest_readings(s, correction, "http", "correction", policy=POLICY).corrections == 10
        by_code = dict(s.execute(select(Meter.code, Meter.id)).all())
        s.execute(delete(LogInbox).where(LogInbox.msg_id == ids[expired]))  # past the horizon
        s.add(LogInbox(msg_id="0" * 64, processed_at=old))
        s.commit()
    with writer_thread(engine, log) as writer:
        wait_for(lambda: writer.stats.messages["stored"] >= 2, 30, "the redeliveries")
    # under load a batch may outlast the 0.3 s acknowledgement wait and come once more
    assert writer.stats.messages["redelivered"] >= 2
    assert writer.stats.messages["already_stored"] >= 1
    with make_session_factory(engine)() as s:
        versions = select(Reading.meter_id, func.max(Reading.version)).group_by(Reading.meter_id)
        latest = dict(s.execute(versions).all())
        inbox = set(s.scalars(select(LogInbox.msg_id)))
    assert latest == {by_code[kept]: 2, by_code[expired]: 3}
    assert inbox == set(ids.values())  # the expired message's id is back; the old row is gone
