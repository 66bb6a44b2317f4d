"""The collector in-process against pymodbus's server and the platform's app: a roll-over and a
reset are judged at the edge exactly as the platform's rollups judge them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from modbus_support import LoopbackModbusServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kilnwatch.collect.checks import RESET, ROLLOVER
from kilnwatch.collect.collector import Collector
from kilnwatch.collect.config import read_config
from kilnwatch.collect.senders import HttpSender
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Meter
from kilnwatch.store.repos.rollups import HOUR, meter_totals

FIXTURES = Path(__file__).parents[1] / "fixtures" / "registry"


def test_rollover_and_reset_judged_alike_at_the_edge_and_on_the_platform(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        import_registry(session, FIXTURES)
    with LoopbackModbusServer() as modbus:
        config = tmp_path / "plant.toml"
        config.write_text(f"""
[platform]
transport = "http"
url = "http://testserver/api/v1/ingest/readings"
gateway = "GW-JN-01"
secret = "s3cret-jn-01"

[[devices]]
name = "switchboard"
host = "127.0.0.1"
port = {modbus.port}

  [[devices.points]]
  meter = "M-JN-E0"
  address = 0
  type = "u32"
  unit = "kWh"
  kind = "counter"
""", encoding="utf-8")  # fmt: skip
        settings = read_config(config)
        sender = HttpSender(settings.platform)
        sender.client = client  # the platform's own app, in-process (an httpx.Client)
        client.auth = ("GW-JN-01", "s3cret-jn-01")
        collector = Collector(settings, sender)
        for raw in (99_950, 99_990, 12, 40, 5, 9):  # roll-over at 10^5, then a reset
            modbus.set("holding", 0, raw, "u32")
            collector.poll_all()
            collector.flush()
        events = [(e.code, e.meter_code) for e in collector.buffer.events()]
        stats = collector.stats
        collector.close()
    assert sorted(events) == sorted([(ROLLOVER, "M-JN-E0"), (RESET, "M-JN-E0")])
    assert (stats.readings_sent, stats.counter_events, stats.send_failures) == (6, 2, 0)
    with Session(engine) as s:
        meter = s.scalar(select(Meter.id).where(Meter.code == "M-JN-E0"))
        assert meter is not None
        now = datetime.now(UTC)
        total = meter_totals(s, [meter], HOUR, now - timedelta(hours=2), now + timedelta(hours=1))
    rollup = total[meter]
    assert (rollup.count, rollup.rollovers, rollup.resets) == (6, 1, 1)
    assert rollup.sum == 40 + 22 + 28 + 0 + 4  # 99,950 -> 99,990 -> (roll-over) 12 -> 40 -> 5 -> 9
