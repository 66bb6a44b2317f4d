"""PostgreSQL restarted during ingestion (issue 22), on a private cluster: the MQTT worker
keeps the batch whose commit failed and retries it (acknowledging only after the commit), and
the HTTP ingest endpoint answers 503 with Retry-After instead of 500, so that the gateway
sends the same batch again. Figures: readings sent, stored, doubled."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from fault_ingest import (
    ROUNDS,
    SECRET,
    Publisher,
    add_target,
    payloads,
    readings,
    running,
    stored,
    wait_for,
)
from fault_servers import PrivatePostgres, private_mosquitto

from kilnwatch.config import Settings
from kilnwatch.ingest.mqtt.parse import readings_topic
from kilnwatch.ingest.mqtt.worker import MqttIngestWorker, MqttOptions
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.web.app import create_app
from zone import POLICY

PER_MESSAGE = 10


def test_mqtt_worker_retries_through_a_postgresql_restart(
    tmp_path: Path, fault_postgres: PrivatePostgres
) -> None:
    tag = uuid.uuid4().hex[:8]
    pg = fault_postgres
    with private_mosquitto(tmp_path) as broker:
        engine = make_engine(Settings(database_url=pg.url, environment="test"))
        upgrade(engine)
        target = add_target(engine, "mqtt")
        options = MqttOptions(port=broker.port, client_id=f"w-{tag}", group=f"g{tag}",
                              prefix=f"kwf/{tag}", batch_readings=100, max_delay_ms=20,
                              receive_maximum=20)  # fmt: skip
        worker = MqttIngestWorker(make_session_factory(engine), options, POLICY)
        pub = Publisher(broker.port, readings_topic(target.gateway, options.prefix))
        try:
            with running(worker):
                acked_while_down = []
                for r in range(ROUNDS):
                    first = 60 * r
                    pub.publish(payloads(target.meter_code, first, 30, PER_MESSAGE))
                    done = (first + 30) * PER_MESSAGE
                    assert wait_for(lambda n=done: stored(engine, target.meter_id)[1] >= n, 20)
                    failures, acked = worker.stats.commit_failures, worker.stats.acked
                    pg.stop("fast")  # sessions ended: the pool's connections are dead
                    pub.publish(payloads(target.meter_code, first + 30, 30, PER_MESSAGE))
                    assert wait_for(lambda f=failures: worker.stats.commit_failures > f, 20)
                    acked_while_down.append(worker.stats.acked - acked)
                    pg.start()
                total = 60 * ROUNDS * PER_MESSAGE
                assert wait_for(lambda: stored(engine, target.meter_id)[1] >= total, 30)
                assert pub.all_acked(10)
        finally:
            pub.close()
        rows, times, version = stored(engine, target.meter_id)
        engine.dispose()
    figure = {"readings_sent": pub.sent * PER_MESSAGE, "readings_stored": times,
              "readings_doubled": rows - times, "max_version": version,
              "commit_failures_retried": worker.stats.commit_failures,
              "duplicates_counted": worker.stats.readings.duplicates}  # fmt: skip
    print(f"\nFIGURE postgres_restart_mqtt: {figure}")
    assert all(n <= 30 for n in acked_while_down)  # only what was committed before the stop
    assert times == rows == 600 * ROUNDS and version == 1


def test_http_ingest_answers_503_while_postgresql_is_down_and_the_resend_is_stored_once(
    tmp_path: Path, fault_postgres: PrivatePostgres
) -> None:
    pg = fault_postgres
    settings = Settings(database_url=pg.url, environment="test", var_dir=tmp_path)
    engine = make_engine(settings)
    upgrade(engine)
    target = add_target(engine, "http")
    auth = (target.gateway, SECRET)
    first, second = readings(target.meter_code, 0, 100), readings(target.meter_code, 100, 100)
    app = create_app(settings)
    with TestClient(app) as client:
        ok = client.post("/api/v1/ingest/readings", json={"readings": first}, auth=auth)
        assert ok.status_code == 200 and ok.json()["accepted"] == 100
        pg.stop("fast")
        down = client.post("/api/v1/ingest/readings", json={"readings": second}, auth=auth)
        page = client.get("/signin")
        pg.start()
        again = client.post("/api/v1/ingest/readings", json={"readings": second}, auth=auth)
        repeat = client.post("/api/v1/ingest/readings", json={"readings": first}, auth=auth)
    app.state.engine.dispose()
    rows, times, version = stored(engine, target.meter_id)
    engine.dispose()
    assert down.status_code == 503, down.text
    assert down.json()["error"]["code"] == "store.unavailable"
    assert down.headers["Retry-After"] == "5"
    assert page.status_code in (200, 503)  # the sign-in page may need no database
    assert again.status_code == 200 and again.json()["accepted"] == 100
    assert repeat.json()["duplicates"] == 100 and repeat.json()["accepted"] == 0
    figure = {"readings_sent": 300, "answered_503": 100, "readings_stored": times,
              "readings_doubled": rows - times, "duplicates_counted": 100}  # fmt: skip
    print(f"\nFIGURE postgres_restart_http: {figure}")
    assert (rows, times, version) == (200, 200, 1)
