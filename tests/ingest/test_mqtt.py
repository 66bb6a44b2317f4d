"""MQTT ingestion against the real Mosquitto: exactly-once storage, ack after commit,
SIGKILL of a worker mid-stream and restart (QoS 1 redelivery + idempotent storage)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.ingest.mqtt.parse import gateway_of, readings_topic, shared_filter
from kilnwatch.ingest.mqtt.worker import MqttIngestWorker, MqttOptions
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory
from kilnwatch.store.models import DeadLetter, Enterprise, Gateway, Meter, Reading
from kilnwatch.store.repos.rollups import meter_totals
from kilnwatch.store.rollups.attribution import DAY, HOUR
from servers import need_server
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
BROKER = ("127.0.0.1", 1883)
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=5)


def _broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def broker() -> None:
    need_server(_broker_up(), "Mosquitto at 127.0.0.1:1883")


@pytest.fixture
def names() -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"prefix": f"kwtest/{tag}", "group": f"g{tag}", "gateway": f"GW-MQ-{tag}",
            "client": f"kw-test-{tag}"}  # fmt: skip


@pytest.fixture
def mqtt_meter(session: Session, names: dict[str, str]) -> int:
    """An mqtt gateway and an interval meter it reports for."""
    import_registry(session, REGISTRY)
    enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == "91370100MA3C4XY21E"))
    assert enterprise is not None
    gw = Gateway(code=names["gateway"], enterprise_id=enterprise.id, protocol="mqtt")
    session.add(gw)
    session.flush()
    meter = Meter(code=f"M-{names['gateway']}", enterprise_id=enterprise.id, carrier="water",
                  level="entry", measurement="interval", unit_of_measure="m3",
                  gateway_id=gw.id)  # fmt: skip
    session.add(meter)
    session.commit()
    return meter.id


def _payloads(meter_code: str, messages: int, per_message: int) -> Iterator[bytes]:
    for m in range(messages):
        readings = [
            {"meter_code": meter_code, "unit": "m3", "value": 1.0 + (m * per_message + i) % 7,
             "ts": (T0 + timedelta(minutes=m * per_message + i)).isoformat()}
            for i in range(per_message)
        ]  # fmt: skip
        yield json.dumps({"readings": readings}).encode()


def _expected_sum(messages: int, per_message: int) -> float:
    return sum(1.0 + n % 7 for n in range(messages * per_message))


def _publish(topic: str, payloads: Iterator[bytes]) -> int:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv5)  # fmt: skip
    client.connect(*BROKER)
    client.loop_start()
    infos = [client.publish(topic, p, qos=1) for p in payloads]
    for info in infos:
        info.wait_for_publish(timeout=10)
        assert info.is_published()
    client.disconnect()
    client.loop_stop()
    return len(infos)


def _count(engine: Engine, meter_id: int) -> int:
    with make_session_factory(engine)() as s:
        stmt = select(func.count()).select_from(Reading).where(Reading.meter_id == meter_id)
        return s.scalar(stmt) or 0


def _wait_for(predicate: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_topic_scheme() -> None:
    assert readings_topic("GW-1") == "kilnwatch/v1/GW-1/readings"
    assert shared_filter() == "$share/kilnwatch/kilnwatch/v1/+/readings"
    assert gateway_of("kilnwatch/v1/GW-1/readings") == "GW-1"
    assert gateway_of("kilnwatch/v1/a/b/readings") is None
    assert gateway_of("other/GW-1/readings") is None


def test_every_reading_arrives_once_in_the_rollups(
    broker: None, engine: Engine, mqtt_meter: int, names: dict[str, str]
) -> None:
    options = MqttOptions(client_id=names["client"], group=names["group"],
                          prefix=names["prefix"], batch_readings=300, max_delay_ms=50,
                          session_expiry_s=5)  # fmt: skip
    ready = threading.Event()
    worker = MqttIngestWorker(make_session_factory(engine), options, POLICY, on_ready=ready.set)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        assert ready.wait(10)
        topic = readings_topic(names["gateway"], names["prefix"])
        code = f"M-{names['gateway']}"
        sent = _publish(topic, _payloads(code, 40, 25))
        _publish(topic, _payloads(code, 5, 25))  # a repeated delivery of the first 5
        _publish(topic, iter([b"{broken", json.dumps({"meter_code": "NOPE"}).encode()]))
        _publish(readings_topic("GW-UNKNOWN", names["prefix"]), _payloads(code, 1, 1))
        assert _wait_for(lambda: worker.stats.acked >= sent + 8, 20), worker.stats
    finally:
        stop.set()
        thread.join(10)
    assert _count(engine, mqtt_meter) == 1000
    assert worker.stats.readings.duplicates == 125
    with make_session_factory(engine)() as s:
        span = (T0 - timedelta(days=2), T0 + timedelta(days=4))
        assert meter_totals(s, [mqtt_meter], HOUR, *span)[mqtt_meter].sum == _expected_sum(40, 25)
        assert meter_totals(s, [mqtt_meter], DAY, *span)[mqtt_meter].count == 1000
        reasons = sorted(s.scalars(select(DeadLetter.reason)))
    assert reasons == [
        "ingest.malformed", "ingest.unknown_gateway", "ingest.unknown_meter"
    ]  # fmt: skip


def _start_worker(settings: Settings, names: dict[str, str]) -> subprocess.Popen[str]:
    code = "from kilnwatch.cli.ingest import app; app()"
    args = [sys.executable, "-c", code, "mqtt", "--client-id", names["client"],
            "--group", names["group"], "--prefix", names["prefix"], "--batch-size", "100",
            "--max-delay-ms", "20", "--receive-maximum", "20",
            "--session-expiry-s", "30"]  # fmt: skip
    env = {**os.environ, "KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_ENVIRONMENT": "test"}  # fmt: skip
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "ready" in line, line
    return proc


def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    broker: None, settings: Settings, engine: Engine, mqtt_meter: int, names: dict[str, str]
) -> None:
    topic = readings_topic(names["gateway"], names["prefix"])
    code = f"M-{names['gateway']}"
    messages, per_message = 300, 10
    worker = _start_worker(settings, names)
    try:
        publisher = threading.Thread(
            target=_publish, args=(topic, _payloads(code, messages, per_message))
        )
        publisher.start()
        assert _wait_for(lambda: _count(engine, mqtt_meter) >= 400, 30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert worker.stdout is not None
        worker.stdout.close()
        killed_at = _count(engine, mqtt_meter)
        publisher.join(30)
        worker = _start_worker(settings, names)
        total = messages * per_message
        assert _wait_for(lambda: _count(engine, mqtt_meter) >= total, 20), killed_at
        time.sleep(0.3)
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=15)
        assert worker.returncode == 0
        assert "stopped" in out
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert killed_at < total
    with make_session_factory(engine)() as s:
        versions = s.scalar(select(func.max(Reading.version)).where(Reading.meter_id == mqtt_meter))
        span = (T0 - timedelta(days=2), T0 + timedelta(days=4))
        hour_sum = meter_totals(s, [mqtt_meter], HOUR, *span)[mqtt_meter]
    assert _count(engine, mqtt_meter) == total
    assert versions == 1
    assert (hour_sum.count, hour_sum.sum) == (total, _expected_sum(messages, per_message))
