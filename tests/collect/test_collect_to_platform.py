"""The collector against pymodbus's server on loopback and the real platform in other
processes, through a platform outage: nothing lost, nothing doubled in the database.

HTTP: ``kilnwatch serve`` stopped and started again. MQTT: a Mosquitto broker of the test's
own (so that stopping it disturbs nobody) with ``kilnwatch ingest mqtt`` behind it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from modbus_support import LoopbackModbusServer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import DeliveryRepeat, Meter, Reading
from servers import need_server

FIXTURES = Path(__file__).parents[1] / "fixtures" / "registry"
POINTS = """
  [[devices.points]]
  meter = "{e0}"
  address = 0
  type = "u32"
  scale = 0.1
  unit = "kWh"
  kind = "counter"

  [[devices.points]]
  meter = "{e1}"
  address = 10
  function = "input"
  type = "f32"
  word_order = "little"
  unit = "kWh"
  kind = "counter"
"""


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(pg_database: str, tmp_path: Path) -> Settings:
    """PostgreSQL only: these tests run real processes through outages (tens of seconds each);
    the storage paths they end in are tested on both backends elsewhere."""
    return Settings(database_url=pg_database, environment="test", var_dir=tmp_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "KILNWATCH_DATABASE_URL": settings.effective_database_url,
            "KILNWATCH_ENVIRONMENT": "test"}  # fmt: skip


@contextmanager
def _meters_moving(server: LoopbackModbusServer) -> Iterator[None]:
    """The test's meters: two counters that count up while the test runs."""
    stop = threading.Event()

    def run() -> None:
        e0, e1 = 1_000_000, 5000.0
        while not stop.is_set():
            server.set("holding", 0, e0, "u32")
            server.set("input", 10, e1, "f32", "little")
            e0, e1 = e0 + 37, e1 + 1.25
            stop.wait(0.05)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def _collector(config: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "kilnwatch.collect", "modbus", "--config",
                             str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert proc.stdout is not None
    assert "collect ready" in proc.stdout.readline()
    return proc


def _stop_collector(proc: subprocess.Popen[str]) -> dict[str, int]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    line = next(x for x in out.splitlines() if x.startswith("collect stopped: "))
    stats: dict[str, int] = json.loads(line.removeprefix("collect stopped: "))
    return stats


def _buffered(config: Path) -> int:
    path = config.with_name(f"{config.stem}.buffer.sqlite")
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM readings").fetchone()[0])


def _stored(engine: Engine, codes: tuple[str, str]) -> list[tuple[str, float, int]]:
    with Session(engine) as s:
        stmt = (select(Meter.code, Reading.value, Reading.version)
                .join(Meter, Meter.id == Reading.meter_id)
                .where(Meter.code.in_(codes)).order_by(Meter.code, Reading.ts))  # fmt: skip
        rows = s.execute(stmt)
        return [(c, v, n) for c, v, n in rows]


def _repeats(engine: Engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(DeliveryRepeat)) or 0


def _check_no_loss_no_double(engine: Engine, codes: tuple[str, str], stats: dict[str, int],
                             config: Path) -> None:  # fmt: skip
    stored = _stored(engine, codes)
    assert len(stored) == stats["readings_buffered"] == stats["readings_sent"]
    assert {n for _, _, n in stored} == {1}  # nothing stored twice, no correction
    assert _repeats(engine) == 0
    assert _buffered(config) == 0
    for code in codes:  # the counters count up, in order, as the meters did
        values = [v for c, v, _ in stored if c == code]
        assert values == sorted(values) and len(values) >= 8  # 4 before and 4 in the outage
    assert stats["counter_events"] == 0 and stats["values_refused"] == 0


class _Serve:
    """``kilnwatch serve`` on a fixed port (it is stopped and started again)."""

    def __init__(self, settings: Settings, port: int, log: Path) -> None:
        self.settings, self.port, self.log = settings, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "kilnwatch.cli", "serve",
                                          "--host", "127.0.0.1", "--port", str(self.port)],
                                         env=_env(self.settings), stdout=out,
                                         stderr=subprocess.STDOUT)  # fmt: skip

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success
            except httpx.TransportError:
                return False

        _wait(up, 60, "kilnwatch serve")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.mark.slow
def test_http_platform_outage_loses_and_doubles_nothing(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        import_registry(session, FIXTURES)
    port = _free_port()
    serve = _Serve(settings, port, tmp_path / "serve.log")
    with LoopbackModbusServer() as modbus, _meters_moving(modbus):
        config = tmp_path / "plant.toml"
        config.write_text(f"""
[platform]
transport = "http"
url = "http://127.0.0.1:{port}/api/v1/ingest/readings"
gateway = "GW-JN-01"
secret = "s3cret-jn-01"
retry_initial_s = 0.2
retry_max_s = 1.0

[[devices]]
name = "switchboard"
host = "127.0.0.1"
port = {modbus.port}
interval_s = 0.25
""" + POINTS.format(e0="M-JN-E0", e1="M-JN-E1"), encoding="utf-8")  # fmt: skip
        serve.start()
        collector = _collector(config)
        try:
            codes = ("M-JN-E0", "M-JN-E1")
            _wait(lambda: len(_stored(engine, codes)) >= 8, 60, "readings on the platform")
            serve.stop()  # the platform is down: the collector keeps polling into its buffer
            _wait(lambda: _buffered(config) >= 8, 30, "readings buffered during the outage")
            serve.start()
            _wait(lambda: _buffered(config) == 0, 60, "the buffer to drain")
            stats = _stop_collector(collector)
        finally:
            if collector.poll() is None:
                collector.kill()
            serve.stop()
    assert stats["send_failures"] >= 1
    _check_no_loss_no_double(engine, codes, stats, config)


@contextmanager
def _private_broker(tmp_path: Path) -> Iterator[tuple[int, Callable[[], None],
                                                      Callable[[], None]]]:  # fmt: skip
    """A Mosquitto of the test's own (persistent, so a restart keeps queued messages)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    need_server(Path(binary).exists(), "the mosquitto broker binary")
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {tmp_path}/\nautosave_interval 1\n",
                    encoding="utf-8")  # fmt: skip
    proc: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        proc.append(subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL))  # fmt: skip

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        _wait(listening, 20, "mosquitto")

    def stop() -> None:
        p = proc.pop()
        p.terminate()
        p.wait(timeout=20)

    start()
    try:
        yield port, start, stop
    finally:
        while proc:
            stop()


@pytest.mark.mqtt
@pytest.mark.slow
def test_mqtt_broker_outage_loses_and_doubles_nothing(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    gateway, e0, e1 = f"GW-MQ-{tag}", f"M-MQ-{tag}-0", f"M-MQ-{tag}-1"
    registry = tmp_path / "registry"
    registry.mkdir()
    for name in ("enterprises.csv", "units.csv"):
        shutil.copy(FIXTURES / name, registry / name)
    (registry / "gateways.csv").write_text(
        f"gateway_code,enterprise_uscc,protocol,mn,secret\n"
        f"{gateway},91370100MA3C4XY21E,mqtt,,s3cret-mq\n", encoding="utf-8")  # fmt: skip
    header = (FIXTURES / "meters.csv").read_text(encoding="utf-8").splitlines()[0]
    (registry / "meters.csv").write_text(header + "\n" + "".join(
        f"{m},91370100MA3C4XY21E,CL1,electricity,sub_unit,,counter,kWh,1.0,,,{gateway},\n"
        for m in (e0, e1)), encoding="utf-8")  # fmt: skip
    with unit_of_work(make_session_factory(engine)) as session:
        import_registry(session, registry)
    with _private_broker(tmp_path) as (port, start_broker, stop_broker), \
            LoopbackModbusServer() as modbus, _meters_moving(modbus):  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-c", "from kilnwatch.cli.ingest import app; app()", "mqtt",
             "--broker", f"mqtt://127.0.0.1:{port}", "--client-id", f"kw-{tag}",
             "--group", f"g{tag}", "--max-delay-ms", "20"],
            env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)  # fmt: skip
        assert worker.stdout is not None and "ready" in worker.stdout.readline()
        config = tmp_path / "plant.yaml"
        config.write_text(f"""
platform: {{transport: mqtt, url: "mqtt://127.0.0.1:{port}", gateway: "{gateway}",
           client_id: "collect-{tag}", timeout_s: 2, retry_initial_s: 0.2, retry_max_s: 1}}
devices:
  - name: switchboard
    host: 127.0.0.1
    port: {modbus.port}
    interval_s: 0.25
    points:
      - {{meter: "{e0}", address: 0, type: u32, scale: 0.1, unit: kWh, kind: counter}}
      - {{meter: "{e1}", address: 10, function: input, type: f32, word_order: little,
          unit: kWh, kind: counter}}
""", encoding="utf-8")  # fmt: skip
        collector = _collector(config)
        try:
            _wait(lambda: len(_stored(engine, (e0, e1))) >= 8, 60, "readings on the platform")
            stop_broker()  # the MQTT path is down: the collector keeps polling into its buffer
            _wait(lambda: _buffered(config) >= 8, 30, "readings buffered during the outage")
            start_broker()
            _wait(lambda: _buffered(config) == 0, 60, "the buffer to drain")
            stats = _stop_collector(collector)
            _wait(lambda: len(_stored(engine, (e0, e1))) >= stats["readings_sent"], 60,
                  "the platform to store every reading")  # fmt: skip
        finally:
            for proc in (collector, worker):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.communicate(timeout=30)
    assert stats["send_failures"] >= 1
    _check_no_loss_no_double(engine, (e0, e1), stats, config)
