"""The MQTT and HJ 212 front ends with the ingest log: they acknowledge their senders once
JetStream holds the readings, store nothing themselves, and a writer stores exactly what they
received (whole-delivery rejections and row rejections dead-lettered as on the direct path).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, select

from kilnwatch.ingest.hj212 import encode_data_frame
from kilnwatch.ingest.hj212_store import DbDeviceDirectory, DbFrameSink, StoreBackedServer
from kilnwatch.ingest.log.publisher import LogPublisher
from kilnwatch.ingest.mqtt.parse import readings_topic
from kilnwatch.ingest.mqtt.worker import MqttIngestWorker, MqttOptions
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import DeadLetter, Enterprise, Gateway, Meter, Reading
from log_support import ENTERPRISE, REGISTRY, stored, unique_log, wait_for, writer_thread
from nats_servers import NatsCluster, running
from servers import need_server
from zone import POLICY

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
MN, PW = "88888880000001", "s3cret-jn-212"
BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def nats_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    with running(tmp_path_factory.mktemp("nats"), nodes=1, name="kwfront") as cluster:
        yield cluster


def test_mqtt_front_end_publishes_then_acks(engine: Engine, nats_node: NatsCluster) -> None:
    need_server(_broker_up(), "Mosquitto at 127.0.0.1:1883")
    tag = uuid.uuid4().hex[:8]
    prefix, code = f"kwlog/{tag}", f"GW-LOG-{tag}"
    with unit_of_work(make_session_factory(engine)) as session:
        import_registry(session, REGISTRY)
        ent = session.scalars(select(Enterprise).where(Enterprise.uscc == ENTERPRISE)).one()
        gw = Gateway(code=code, enterprise_id=ent.id, protocol="mqtt")
        session.add(gw)
        session.flush()
        meter = Meter(code=f"M-{code}", enterprise_id=ent.id, carrier="water", level="entry",
                      measurement="interval", unit_of_measure="m3", gateway_id=gw.id)  # fmt: skip
        session.add(meter)
    log = unique_log(nats_node.urls)
    publisher = LogPublisher(log)
    options = MqttOptions(client_id=f"kw-log-{tag}", group=f"g{tag}", prefix=prefix,
                          batch_readings=100, max_delay_ms=50, session_expiry_s=5)  # fmt: skip
    ready = threading.Event()
    worker = MqttIngestWorker(make_session_factory(engine), options, POLICY, ready.set,
                              outlet=publisher.publish)  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    t0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    payloads = [
        json.dumps({"readings": [
            {"meter_code": f"M-{code}", "unit": "m3", "value": 1.0 + i % 4,
             "ts": (t0 + timedelta(minutes=10 * m + i)).isoformat()} for i in range(10)
        ]}).encode()
        for m in range(12)
    ]  # fmt: skip
    payloads.append(b"{broken")
    payloads.append(json.dumps({"meter_code": "NOPE", "ts": t0.isoformat(), "value": 1}).encode())
    try:
        assert ready.wait(10)
        sender = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{tag}",
                             protocol=mqtt.MQTTv5)  # fmt: skip
        sender.connect(*BROKER)
        sender.loop_start()
        infos = [sender.publish(readings_topic(code, prefix), p, qos=1) for p in payloads]
        infos.append(sender.publish(readings_topic("GW-NOBODY", prefix), payloads[0], qos=1))
        for info in infos:
            info.wait_for_publish(10)
        sender.disconnect()
        sender.loop_stop()
        wait_for(lambda: worker.stats.acked >= len(infos), 30, "the worker's acks")
    finally:
        stop.set()
        thread.join(15)
        publisher.close()
    assert stored(engine).rows == 0  # acknowledged from the log, not stored by the front end
    with writer_thread(engine, log) as writer:
        wait_for(lambda: writer.stats.readings.accepted == 120, 30, "the writer")
    with make_session_factory(engine)() as s:
        reasons = sorted(s.scalars(select(DeadLetter.reason)))
    assert reasons == ["ingest.malformed", "ingest.unknown_gateway", "ingest.unknown_meter"]
    assert stored(engine).by_meter == {f"M-{code}": (120, sum(1.0 + i % 4 for i in range(10)) * 12)}


def test_hj212_front_end_replies_after_jetstream(engine: Engine, nats_node: NatsCluster) -> None:
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        import_registry(session, REGISTRY)
    log = unique_log(nats_node.urls)
    publisher = LogPublisher(log)
    directory = DbDeviceDirectory(factory)
    sink = DbFrameSink(factory, directory, POLICY, max_delay_ms=5, outlet=publisher.publish)
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    frames = [
        encode_data_frame(mn=MN, pw=PW, cn="2011", data_time=when + timedelta(minutes=k),
                          values={"a21026": (12.5 + k, "N"), "a21002": (40.0, "N")})
        for k in range(3)
    ]  # fmt: skip

    async def scenario() -> list[bytes]:
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            replies = []
            for frame in frames:
                writer.write(frame)
                await writer.drain()
                replies.append(await asyncio.wait_for(reader.readuntil(b"\r\n"), 10))
            writer.close()
            await writer.wait_closed()
            await sink.close()
        return replies

    try:
        replies = asyncio.run(scenario())
    finally:
        publisher.close()
    assert all(b"CN=9014" in r for r in replies)
    assert stored(engine).rows == 0
    with writer_thread(engine, log) as writer:
        wait_for(lambda: writer.stats.messages["stored"] == 3, 30, "the writer")
    with factory() as s:
        so2 = s.scalar(select(Meter.id).where(Meter.code == "M-JN-SO2"))
        values = sorted(s.scalars(select(Reading.value).where(Reading.meter_id == so2)))
        reasons = s.scalars(select(DeadLetter.reason)).all()
    assert values == [12.5, 13.5, 14.5]
    assert reasons == ["ingest.unknown_meter"] * 3  # a21002 (NOx) has no meter
