"""Ingest throughput, each path against the raw database load limit measured the same run.

    python benchmarks/ingest.py [--rows N] [--mqtt-readings N] [--hj212-frames N]
                                [--http-readings N] [--pg postgresql://postgres@127.0.0.1/postgres]

Creates (and drops) its own PostgreSQL database and a temporary SQLite file. Prints one line
per measurement and ends with ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import resource
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from kilnwatch.config import Settings
from kilnwatch.identity import hash_secret
from kilnwatch.ingest.hj212 import encode_data_frame
from kilnwatch.ingest.hj212_store import DbDeviceDirectory, DbFrameSink, StoreBackedServer
from kilnwatch.ingest.mqtt.parse import readings_topic
from kilnwatch.ingest.mqtt.worker import MqttIngestWorker, MqttOptions
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Gateway, Meter

METERS = 200
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=300)
SECRET = "bench-secret-1"
MN = "99999990000001"


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def rows(n: int, offset_min: int = 0) -> list[tuple[str, str, float]]:
    per_meter = max(1, n // METERS)
    out = []
    for m in range(METERS):
        for i in range(per_meter):
            ts = START + timedelta(minutes=offset_min + i)
            out.append((f"BM-{m:04d}", ts.isoformat(), float((i * 7 + m) % 50)))
    return out[:n]


def setup_registry(settings: Settings) -> None:
    engine = make_engine(settings)
    upgrade(engine)
    with make_session_factory(engine)() as s:
        ent = Enterprise(uscc="91370100MA3C4XY21E", name="bench", region_code="370112",
                         industry="cement")  # fmt: skip
        s.add(ent)
        s.flush()
        hashed = hash_secret(SECRET)
        gws = {
            p: Gateway(code=f"BGW-{p}", enterprise_id=ent.id, protocol=p, secret_hash=hashed,
                       mn=MN if p == "hj212" else None)
            for p in ("http", "mqtt", "hj212")
        }  # fmt: skip
        s.add_all(gws.values())
        s.flush()
        for m in range(METERS):
            s.add(Meter(code=f"BM-{m:04d}", enterprise_id=ent.id, carrier="water", level="entry",
                        measurement="interval", unit_of_measure="m3", gateway_id=gws["mqtt"].id,
                        hj212_code=f"w{m:05d}"[:6] if m < 1 else None))  # fmt: skip
        s.add(Meter(code="BM-SO2", enterprise_id=ent.id, carrier="so2", level="equipment",
                    measurement="instant", unit_of_measure="mg/m3", gateway_id=gws["hj212"].id,
                    hj212_code="a21026"))  # fmt: skip
        s.commit()
    engine.dispose()


def write_csv(path: Path, data: list[tuple[str, str, float]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["meter_code", "ts", "value", "unit", "flag"])
        w.writerows((c, t, v, "m3", "") for c, t, v in data)


def raw_pg(dsn: str, data: list[tuple[str, str, float]]) -> float:
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE raw_load (meter_code text, ts timestamptz, value float8,"
                     " unit text, flag text)")  # fmt: skip
        text = "".join(f"{c},{t},{v},m3,\n" for c, t, v in data)
        t0 = time.perf_counter()
        with conn.cursor().copy("COPY raw_load FROM STDIN (FORMAT csv)") as copy:
            copy.write(text)
        conn.commit()
        elapsed = time.perf_counter() - t0
        conn.execute("DROP TABLE raw_load")
    return len(data) / elapsed


def raw_sqlite(path: Path, data: list[tuple[str, str, float]]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE raw_load (meter_code text, ts text, value real, unit text, flag text)"
    )
    t0 = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO raw_load VALUES (?, ?, ?, 'm3', NULL)", data)
    elapsed = time.perf_counter() - t0
    conn.close()
    return len(data) / elapsed


def bulk(settings: Settings, csv_path: Path, n: int) -> float:
    engine = make_engine(settings)
    t0 = time.perf_counter()
    with make_session_factory(engine)() as s:
        report = import_readings_file(s, csv_path)
        s.commit()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    assert report.accepted == n, report
    return n / elapsed


def bench_mqtt(settings: Settings, n: int) -> tuple[float, int]:
    tag = uuid.uuid4().hex[:8]
    options = MqttOptions(client_id=f"bench-{tag}", group=f"b{tag}", prefix=f"bench/{tag}",
                          batch_readings=10_000, max_delay_ms=100, session_expiry_s=10)  # fmt: skip
    engine = make_engine(settings)
    ready = threading.Event()
    worker = MqttIngestWorker(make_session_factory(engine), options, on_ready=ready.set)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    ready.wait(10)
    data = rows(n, offset_min=200_000)
    payloads = [
        json.dumps({"readings": [{"meter_code": c, "ts": t, "value": v, "unit": "m3"}
                                 for c, t, v in data[i : i + 500]]}).encode()
        for i in range(0, len(data), 500)
    ]  # fmt: skip
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bp-{tag}", protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    for p in payloads:
        pub.publish(readings_topic("BGW-mqtt", options.prefix), p, qos=1)
    while worker.stats.acked < len(payloads):
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
    stop.set()
    thread.join()
    pub.disconnect()
    pub.loop_stop()
    engine.dispose()
    assert worker.stats.readings_accepted == len(data), worker.stats
    return len(data) / elapsed, rss_growth


def bench_hj212(settings: Settings, frames: int, connections: int = 50) -> float:
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    directory = DbDeviceDirectory(factory)
    sink = DbFrameSink(factory, directory, max_batch_frames=500, max_delay_ms=5)
    per_conn = frames // connections
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)

    async def client(port: int, k: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in range(per_conn):
            at = base + timedelta(seconds=k * per_conn + i)
            writer.write(encode_data_frame(mn=MN, pw=SECRET, cn="2011", data_time=at,
                                           values={"a21026": (10.0 + i % 5, "N")}))  # fmt: skip
            await reader.readuntil(b"\r\n")
        writer.close()

    async def run() -> float:
        server = StoreBackedServer(directory, sink, host="127.0.0.1", port=0)
        async with server:
            t0 = time.perf_counter()
            await asyncio.gather(*(client(server.port, k) for k in range(connections)))
            elapsed = time.perf_counter() - t0
            await sink.close()
        return per_conn * connections / elapsed

    rate = asyncio.run(run())
    engine.dispose()
    return rate


def bench_http(settings: Settings, n: int) -> float:
    from fastapi.testclient import TestClient

    from kilnwatch.web.app import create_app

    data = rows(n, offset_min=400_000)
    bodies = [
        {"readings": [{"meter_code": c, "ts": t, "value": v, "unit": "m3"}
                      for c, t, v in data[i : i + 500]]}
        for i in range(0, len(data), 500)
    ]  # fmt: skip
    with TestClient(create_app(settings)) as client:
        t0 = time.perf_counter()
        for body in bodies:
            r = client.post("/api/v1/ingest/readings", json=body, auth=("BGW-http", SECRET))
            assert r.status_code == 200, r.text
        elapsed = time.perf_counter() - t0
    return len(data) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--mqtt-readings", type=int, default=100_000)
    ap.add_argument("--hj212-frames", type=int, default=10_000)
    ap.add_argument("--http-readings", type=int, default=20_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    name = f"kilnwatch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    pg_dsn = f"{args.pg.rsplit('/', 1)[0]}/{name}"
    result: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmpdir = Path(tmp)
            pg = Settings(database_url=pg_dsn, environment="test", var_dir=tmpdir)
            lite = Settings(database_url=f"sqlite:///{tmpdir / 'bench.sqlite'}",
                            environment="test", var_dir=tmpdir)  # fmt: skip
            setup_registry(pg)
            setup_registry(lite)
            data = rows(args.rows)
            csv_path = tmpdir / "readings.csv"
            write_csv(csv_path, data)
            raw_pg_rate = raw_pg(pg_dsn, data)
            pg_rate = bulk(pg, csv_path, len(data))
            say(f"pg raw COPY {raw_pg_rate:,.0f}/s; kilnwatch bulk {pg_rate:,.0f}/s")
            raw_lite = raw_sqlite(tmpdir / "raw.sqlite", data)
            lite_rate = bulk(lite, csv_path, len(data))
            say(f"sqlite raw executemany {raw_lite:,.0f}/s; kilnwatch bulk {lite_rate:,.0f}/s")
            mqtt_rate, rss = bench_mqtt(pg, args.mqtt_readings)
            say(f"mqtt end-to-end {mqtt_rate:,.0f} readings/s (max RSS growth {rss} KiB)")
            hj_rate = bench_hj212(pg, args.hj212_frames)
            say(f"hj212 {hj_rate:,.0f} frames/s")
            http_rate = bench_http(pg, args.http_readings)
            say(f"http {http_rate:,.0f} readings/s")
            result = {
                "pg_raw_copy_per_s": round(raw_pg_rate), "pg_bulk_per_s": round(pg_rate),
                "pg_bulk_ratio": round(pg_rate / raw_pg_rate, 3),
                "sqlite_raw_per_s": round(raw_lite), "sqlite_bulk_per_s": round(lite_rate),
                "sqlite_bulk_ratio": round(lite_rate / raw_lite, 3),
                "mqtt_readings_per_s": round(mqtt_rate), "mqtt_rss_growth_kib": rss,
                "hj212_frames_per_s": round(hj_rate), "http_readings_per_s": round(http_rate),
            }  # fmt: skip
    finally:
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    say("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
