"""Collector configuration (TOML and YAML, errors named by field) and the durable buffer."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kilnwatch.collect.buffer import Buffer, BufferedReading, Event
from kilnwatch.collect.config import read_config
from kilnwatch.errors import ImportRejected, InputError

TOML = """
[platform]
transport = "http"
url = "http://127.0.0.1:8000/api/v1/ingest/readings"
gateway = "GW-JN-01"
secret = "s3cret-jn-01"

[[devices]]
name = "switchboard"
host = "127.0.0.1"
port = 1502
interval_s = 30

  [[devices.points]]
  meter = "M-JN-E0"
  address = 0
  type = "u32"
  scale = 0.1
  unit = "kWh"
  kind = "counter"

  [[devices.points]]
  meter = "M-JN-E1"
  address = 10
  function = "input"
  type = "f32"
  word_order = "little"
  unit = "kWh"
  kind = "counter"
  interval_s = 5
"""
YAML = """
platform:
  transport: mqtt
  url: mqtt://127.0.0.1:1883
  gateway: GW-MQ-01
devices:
  - name: boiler
    host: 127.0.0.1
    points:
      - {meter: M-STEAM, address: 4, type: f64, byte_order: little, unit: t, kind: counter}
"""


def test_toml_and_yaml_give_the_same_model(tmp_path: Path) -> None:
    toml = tmp_path / "plant.toml"
    toml.write_text(TOML, encoding="utf-8")
    config = read_config(toml)
    assert config.buffer == tmp_path / "plant.buffer.sqlite"
    e0, e1 = config.devices[0].points
    assert (e0.type, e0.scale, e0.function, e0.interval_s) == ("u32", 0.1, "holding", None)
    assert (e1.function, e1.word_order, e1.interval_s) == ("input", "little", 5)
    yml = tmp_path / "boiler.yaml"
    yml.write_text(YAML, encoding="utf-8")
    other = read_config(yml)
    assert other.platform.transport == "mqtt" and other.devices[0].port == 502
    assert other.devices[0].points[0].byte_order == "little"


def test_errors_name_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML.replace('type = "f32"', 'type = "f16"').replace("port = 1502",
                   "port = 0"), encoding="utf-8")  # fmt: skip
    with pytest.raises(ImportRejected) as info:
        read_config(bad)
    fields = sorted(e.location.field or "" for e in info.value.errors)
    assert fields == ["devices[0].points[1].type", "devices[0].port"]
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(TOML.replace("http://127.0.0.1", "mqtt://127.0.0.1"), encoding="utf-8")
    with pytest.raises(ImportRejected, match="1 invalid"):
        read_config(wrong)
    broken = tmp_path / "broken.yaml"
    broken.write_text("platform: [", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read"):
        read_config(broken)


def test_buffer_survives_a_reopen_and_deletes_only_what_was_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    t0 = datetime(2025, 6, 1, tzinfo=UTC)
    rows = [BufferedReading("M1", t0 + timedelta(seconds=i), float(i), "kWh") for i in range(5)]
    buffer = Buffer(path)
    buffer.add(rows[:3], counters=[rows[2]],
               events=[Event(t0, "collect.counter.reset", "M1", "9 -> 1")])  # fmt: skip
    buffer.close()
    buffer = Buffer(path)
    batch = buffer.oldest(2)
    assert [r for _, r in batch] == rows[:2]
    buffer.add(rows[3:], counters=[rows[4]])
    buffer.delete([i for i, _ in batch])
    assert [r for _, r in buffer.oldest(10)] == rows[2:]
    assert buffer.last_counters() == {"M1": 4.0}
    assert [e.code for e in buffer.events()] == ["collect.counter.reset"]
    ids = [i for i, _ in buffer.oldest(10)]
    buffer.delete(ids)
    buffer.add(rows[:1])
    assert buffer.oldest(1)[0][0] > max(ids)  # ids never repeat
    buffer.close()


def test_the_collector_needs_no_database_layer() -> None:
    code = ("import sys, kilnwatch.collect.cli, kilnwatch.collect.collector; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'alembic', 'psycopg', 'fastapi', 'polars') "
            "or m.startswith('kilnwatch.store')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"
