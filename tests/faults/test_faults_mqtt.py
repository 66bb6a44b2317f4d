"""MQTT faults against private brokers (issue 22): the broker restarted mid-stream, and a
worker that stops and never comes back while the broker keeps handing its session a share.
Each test prints its figure: messages and readings sent, acknowledged by the broker, stored,
doubled (rows beyond one per timestamp)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from fault_ingest import ROUNDS, Publisher, Target, add_target, payloads, running, stored, wait_for
from fault_servers import private_mosquitto
from sqlalchemy import Engine

from kilnwatch.config import Settings
from kilnwatch.ingest.mqtt.parse import readings_topic
from kilnwatch.ingest.mqtt.worker import MqttIngestWorker, MqttOptions
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from zone import POLICY

PER_MESSAGE = 10


def _sqlite(tmp_path: Path) -> tuple[Settings, Engine]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'kw.sqlite'}", environment="test",
                        var_dir=tmp_path)  # fmt: skip
    engine = make_engine(settings)
    upgrade(engine)
    return settings, engine


def _figure(name: str, pub: Publisher, engine: Engine, target: Target, **extra: int) -> dict:
    rows, times, version = stored(engine, target.meter_id)
    figure = {"messages_sent": pub.sent, "messages_acked_by_broker": len(pub.acked),
              "readings_sent": pub.sent * PER_MESSAGE, "readings_stored": times,
              "readings_doubled": rows - times, "max_version": version, **extra}  # fmt: skip
    print(f"\nFIGURE {name}: {figure}")
    return figure


def test_broker_restart_mid_stream_loses_and_doubles_nothing(tmp_path: Path) -> None:
    _, engine = _sqlite(tmp_path)
    target = add_target(engine, "mqtt")
    tag = uuid.uuid4().hex[:8]
    with private_mosquitto(tmp_path) as broker:
        options = MqttOptions(port=broker.port, client_id=f"w-{tag}", group=f"g{tag}",
                              prefix=f"kwf/{tag}", batch_readings=200, max_delay_ms=20,
                              receive_maximum=20, reconnect_max_s=1)  # fmt: skip
        worker = MqttIngestWorker(make_session_factory(engine), options, POLICY)
        pub = Publisher(broker.port, readings_topic(target.gateway, options.prefix))
        try:
            with running(worker):
                for r in range(ROUNDS):
                    first = 100 * r
                    pub.publish(payloads(target.meter_code, first, 60, PER_MESSAGE), 0.002)
                    done = (first + 10) * PER_MESSAGE
                    ok = wait_for(lambda n=done: stored(engine, target.meter_id)[0] >= n, 20)
                    assert ok, (r, stored(engine, target.meter_id), worker.stats, pub.resent)
                    broker.stop()  # clean shutdown: sessions and queued messages persisted
                    pub.publish(payloads(target.meter_code, first + 60, 40, PER_MESSAGE))
                    broker.start()
                assert pub.all_acked(30)
                total = pub.sent * PER_MESSAGE
                ok = wait_for(lambda: stored(engine, target.meter_id)[1] >= total, 30)
                assert ok, (stored(engine, target.meter_id), worker.stats, worker._inbox.qsize())
        finally:
            pub.close()
    figure = _figure("broker_restart", pub, engine, target,
                     duplicates_counted=worker.stats.readings.duplicates,
                     resent_no_subscriber=pub.resent)  # fmt: skip
    assert figure["messages_acked_by_broker"] == figure["messages_sent"] == 100 * ROUNDS
    assert figure["readings_stored"] == figure["readings_sent"] == 1000 * ROUNDS
    assert figure["readings_doubled"] == 0 and figure["max_version"] == 1


def _cli_worker(settings: Settings, options: MqttOptions) -> subprocess.Popen[str]:
    code = "from kilnwatch.cli.ingest import app; app()"
    args = [sys.executable, "-c", code, "mqtt", "--broker", f"mqtt://127.0.0.1:{options.port}",
            "--client-id", options.client_id, "--group", options.group,
            "--prefix", options.prefix, "--batch-size", "100", "--max-delay-ms", "20",
            "--receive-maximum", "20", "--keepalive-s", str(options.keepalive_s),
            "--takeover-after-s", str(options.takeover_after_s)]  # fmt: skip
    env = {**os.environ, "KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_ENVIRONMENT": "test"}  # fmt: skip
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "ready" in line, line
    return proc


def test_a_worker_that_never_returns_has_its_share_taken_over(tmp_path: Path) -> None:
    """Worker A is stopped dead (SIGSTOP: its connection stays open, it answers nothing), as a
    hung process or a lost host. The broker declares it lost after 1.5 keep-alives and
    publishes its Will; worker B drains A's session (which the broker goes on feeding until
    then) and ends it. A then wakes up: what it held is counted as duplicates, not stored
    twice, and it rejoins the group."""
    settings, engine = _sqlite(tmp_path)
    target = add_target(engine, "mqtt")
    tag = uuid.uuid4().hex[:8]
    with private_mosquitto(tmp_path) as broker:
        base = MqttOptions(port=broker.port, group=f"g{tag}", prefix=f"kwf/{tag}",
                           batch_readings=100, max_delay_ms=20, receive_maximum=20,
                           keepalive_s=1, takeover_after_s=0.5, drain_quiet_s=0.5)  # fmt: skip
        opts_a = MqttOptions(**{**base.__dict__, "client_id": f"a-{tag}"})
        opts_b = MqttOptions(**{**base.__dict__, "client_id": f"b-{tag}"})
        a = _cli_worker(settings, opts_a)
        b = MqttIngestWorker(make_session_factory(engine), opts_b, POLICY)
        pub = Publisher(broker.port, readings_topic(target.gateway, base.prefix))
        try:
            with running(b):
                pub.publish(payloads(target.meter_code, 0, 20, PER_MESSAGE))
                assert wait_for(lambda: stored(engine, target.meter_id)[1] >= 200, 20)
                a.send_signal(signal.SIGSTOP)
                pub.publish(payloads(target.meter_code, 20, 40, PER_MESSAGE))
                assert pub.all_acked(10)
                # nothing waits for A: B takes its share over (1.5 keep-alives + 0.5 s)
                assert wait_for(lambda: stored(engine, target.meter_id)[1] >= 600, 30)
                assert wait_for(lambda: b.stats.takeovers == 1, 10)
                assert b.stats.taken_over_messages > 0
                a.send_signal(signal.SIGCONT)  # A comes back after all
                pub.publish(payloads(target.meter_code, 60, 20, PER_MESSAGE))
                assert pub.all_acked(10)
                assert wait_for(lambda: stored(engine, target.meter_id)[1] >= 800, 30)
                a.send_signal(signal.SIGTERM)
                out, _ = a.communicate(timeout=20)
                assert a.returncode == 0 and "stopped" in out
        finally:
            pub.close()
            if a.poll() is None:
                a.send_signal(signal.SIGCONT)
                a.kill()
                a.communicate()
    figure = _figure("worker_never_returns", pub, engine, target,
                     taken_over_messages=b.stats.taken_over_messages)  # fmt: skip
    assert figure["readings_stored"] == figure["readings_sent"] == 800
    assert figure["readings_doubled"] == 0 and figure["max_version"] == 1
