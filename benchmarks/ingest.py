"""Ingest throughput, each path against the raw database load limit measured the same run.

    python benchmarks/ingest.py [--rows N] [--mqtt-readings N] [--hj212-frames N]
                                [--hj212-connections N] [--http-readings N] [--file-rows N]
                                [--only hj212|file]
                                [--pg postgresql://postgres@127.0.0.1/postgres]

Creates (and drops) its own PostgreSQL database and a temporary SQLite file. Prints one line
per measurement and ends with ``RESULT {json}``.

Baselines ("raw"): the same rows, already formatted, loaded by the database's own bulk path
into a table with the columns and primary key of ``readings`` (``baseline_table``; exactly the
real table's shape since migration 0004 dropped its foreign key): PostgreSQL ``COPY`` (psycopg,
CSV text), SQLite ``executemany`` in one transaction.
The file-import part runs ``kilnwatch import readings`` of ``--file-rows`` rows (default
2 000 000) as its own process on each backend, against the raw load of the same rows
(``file_import_ratio_pg``, ``file_import_ratio_sqlite``, ``file_import_peak_rss_mb``: the
larger peak resident memory of the two processes).
The MQTT worker and the HJ 212 clients run as separate processes (the worker's peak RSS is
read from ``/proc``); the HJ 212 clients wait for each reply before sending the next frame.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
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
from kilnwatch.ingest.mqtt.parse import readings_topic
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Gateway, Meter

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # pg_support
from pg_support import throwaway_database  # noqa: E402

METERS = 200
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=300)
SECRET = "bench-secret-1"
RSS_SAMPLE_S = 2.0
SOAK_FRAMES_PER_CONNECTION = 200_000  # upper bound of a soak run's time line per connection
SOAK_DAYS_BACK = 600
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


BASELINE_TABLE = "same columns and primary key as readings (no foreign key, as readings)"


def _meter_ids(settings: Settings) -> dict[str, int]:
    engine = make_engine(settings)
    with make_session_factory(engine)() as s:
        ids: dict[str, int] = {c: i for c, i in s.query(Meter.code, Meter.id)}  # noqa: C416
    engine.dispose()
    return ids


def _reading_tuples(data: list[tuple[str, str, float]], ids: dict[str, int]) -> list[tuple]:
    now = datetime.now(UTC).isoformat()
    return [(ids[c], t, 1, v, None, 1, None, now) for c, t, v in data]


def raw_pg(dsn: str, data: list[tuple[str, str, float]], ids: dict[str, int]) -> float:
    """COPY of the same rows into a table shaped like readings (``LIKE readings``)."""
    rows = _reading_tuples(data, ids)
    text = "".join(f"{m},{t},{k},{v},,{s},,{r}\n" for m, t, k, v, _f, s, _b, r in rows)
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE raw_load (LIKE readings INCLUDING ALL)")
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor().copy("COPY raw_load FROM STDIN (FORMAT csv)") as copy:
            copy.write(text)
        conn.commit()
        elapsed = time.perf_counter() - t0
        conn.execute("DROP TABLE raw_load")
    return len(data) / elapsed


def raw_sqlite(path: Path, data: list[tuple[str, str, float]], ids: dict[str, int]) -> float:
    """executemany of the same rows into a table shaped like readings, in the same file."""
    rows = [
        (m, datetime.fromisoformat(t).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), k, v,
         f, s, b, r)
        for m, t, k, v, f, s, b, r in _reading_tuples(data, ids)
    ]  # fmt: skip
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE raw_load (meter_id INTEGER NOT NULL, "
        "ts DATETIME NOT NULL, version SMALLINT NOT NULL, value FLOAT NOT NULL, flag VARCHAR(2), "
        "source SMALLINT NOT NULL, batch_id INTEGER, received_at DATETIME NOT NULL, "
        "PRIMARY KEY (meter_id, ts, version))"
    )
    t0 = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO raw_load VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - t0
    conn.execute("DROP TABLE raw_load")
    conn.close()
    return len(data) / elapsed


def bulk(settings: Settings, csv_path: Path, n: int) -> float:
    engine = make_engine(settings)
    t0 = time.perf_counter()
    with make_session_factory(engine)() as s:
        policy = ValidationPolicy(local_tz=settings.timezone)
        report = import_readings_file(s, csv_path, policy=policy)
        s.commit()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    assert report.accepted == n, report
    return n / elapsed


def _cli_env(settings: Settings) -> dict[str, str]:
    """The environment of a ``kilnwatch`` process on ``settings``' database, with a bytecode
    cache (``PYTHONPYCACHEPREFIX`` in the var dir): an installed package runs from compiled
    bytecode, while this sandbox sets ``PYTHONDONTWRITEBYTECODE`` and would otherwise
    compile every module of every run (≈ 1.2 s of CPU for the import command's modules)."""
    env = {**os.environ, "KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_ENVIRONMENT": "test", "KILNWATCH_VAR_DIR": str(settings.var_dir),
           "PYTHONPYCACHEPREFIX": str(Path(settings.var_dir) / "pycache")}  # fmt: skip
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run_cli(args: list[str], env: dict[str, str], log: Path) -> tuple[float, str]:
    """Run ``kilnwatch ARGS`` (with its peak RSS printed at exit): seconds and output."""
    with log.open("w+") as output:  # a file, not a pipe: the child never waits on us
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", CLI_WITH_PEAK_RSS, *args], env=env,
                                stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
        _, status = os.waitpid(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        output.seek(0)
        out = output.read()
    assert os.waitstatus_to_exitcode(status) == 0, out
    return elapsed, out


def bench_file_import(settings: Settings, path: Path, n: int) -> tuple[float, int]:
    """``kilnwatch import readings FILE`` as a user runs it (its own process, start-up and
    migration check included): rows/s and the process's peak resident memory [KiB].

    An untimed run on a file with the header only comes first, as the first command after an
    installation would: it fills the bytecode cache (:func:`_cli_env`) and stores nothing."""
    env = _cli_env(settings)
    empty = path.with_name("empty_readings.csv")
    empty.write_text("meter_code,ts,value,unit,flag\n", encoding="utf-8")
    _run_cli(["import", "readings", str(empty)], env, path.with_suffix(".warm.log"))
    elapsed, out = _run_cli(["import", "readings", str(path)], env, path.with_suffix(".log"))
    assert f"{n} rows: {n} stored" in out, out
    return n / elapsed, int(out.rsplit("PEAK_RSS_KIB", 1)[1].split()[0])


CLI_WITH_PEAK_RSS = """
import atexit, sys
def peak():  # VmHWM is per address space: it starts at exec, unlike ru_maxrss (fork's copy)
    with open("/proc/self/status") as f:
        kib = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    sys.stdout.write(f"PEAK_RSS_KIB {kib}\\n")
atexit.register(peak)
from kilnwatch.cli import main
main()
"""


def file_import(pg: Settings, lite: Settings, tmpdir: Path, n: int) -> dict[str, float]:
    """The ``file_import_*`` figures: ``kilnwatch import readings`` of ``n`` rows (other
    timestamps than the bulk part's) against the raw load of the same rows, same run."""
    # after the HTTP part's minutes, before now: appends, up to ≈ 5 M rows (START is 300 d back)
    data = rows(n, offset_min=405_000)
    path = tmpdir / "file_import.csv"
    write_csv(path, data)
    figures: dict[str, float] = {}
    peak_kib = 0
    for name, settings in (("pg", pg), ("sqlite", lite)):
        if name == "pg":
            raw = raw_pg(settings.effective_database_url, data, _meter_ids(settings))
        else:
            raw = raw_sqlite(Path(settings.effective_database_url.removeprefix("sqlite:///")),
                             data, _meter_ids(settings))  # fmt: skip
        rate, rss_kib = bench_file_import(settings, path, len(data))
        peak_kib = max(peak_kib, rss_kib)
        say(f"{name} file import of {len(data):,} rows: kilnwatch import readings "
            f"{rate:,.0f} rows/s, raw load {raw:,.0f} rows/s, ratio {rate / raw:.3f}, "
            f"peak RSS {rss_kib // 1024} MiB")  # fmt: skip
        figures[f"file_import_raw_{name}_rows_per_s"] = round(raw)
        figures[f"file_import_{name}_rows_per_s"] = round(rate)
        figures[f"file_import_ratio_{name}"] = round(rate / raw, 3)
    path.unlink()
    return {"file_import_rows": len(data), **figures,
            "file_import_peak_rss_mb": round(peak_kib / 1024, 1)}  # fmt: skip


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _own_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of one process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and, recursively, its children."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        children = []
    return _own_cpu_s(pid) + sum(_tree_cpu_s(c) for c in children)


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and its children [KiB]."""
    rss = 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return rss
    return rss + sum(_tree_rss_kib(c) for c in children)


def _postgres_cpu_s() -> float:
    """CPU seconds of the machine's PostgreSQL processes (backends come and go)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm", encoding="ascii") as f:
                    name = f.read().strip()
            except OSError:
                continue
            if name == "postgres":
                total += _own_cpu_s(int(entry))
    return total


def _count_since(dsn: str, since: datetime) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM readings WHERE ts >= %s", (since,)).fetchone()
    return int(row[0]) if row else 0


def bench_mqtt(settings: Settings, dsn: str, n: int) -> tuple[float, int]:
    """End to end through a worker process: publish, store, commit, ack."""
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench/{tag}"
    env = {**os.environ, "KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_ENVIRONMENT": "test"}  # fmt: skip
    args = [sys.executable, "-c", "from kilnwatch.cli.ingest import app; app()", "mqtt",
            "--client-id", f"bench-{tag}", "--group", f"b{tag}", "--prefix", prefix,
            "--batch-size", "20000", "--max-delay-ms", "100", "--receive-maximum", "1000",
            "--session-expiry-s", "10"]  # fmt: skip
    worker = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    assert "ready" in worker.stdout.readline()
    data = rows(n, offset_min=200_000)
    since = START + timedelta(minutes=200_000)
    payloads = [
        json.dumps({"readings": [{"meter_code": c, "ts": t, "value": v, "unit": "m3"}
                                 for c, t, v in data[i : i + 500]]}).encode()
        for i in range(0, len(data), 500)
    ]  # fmt: skip
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bp-{tag}", protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    t0 = time.perf_counter()
    for p in payloads:
        pub.publish(readings_topic("BGW-mqtt", prefix), p, qos=1)
    while _count_since(dsn, since) < len(data):
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    rss = _peak_rss_kib(worker.pid)
    worker.terminate()
    worker.communicate(timeout=30)
    pub.disconnect()
    pub.loop_stop()
    return len(data) / elapsed, rss


def hj212_mn(device: int) -> str:
    """MN of benchmark device ``device`` (device 0 is the registry's ``MN``)."""
    return MN if device == 0 else f"{int(MN) + device:014d}"


def setup_hj212_devices(settings: Settings, devices: int) -> None:
    """Devices 1..N-1 besides ``MN``: each an hj212 gateway with its own SO2 meter.

    All share one stored hash (one salt), so the log-in round costs one scrypt, not one per
    device (a real restart costs ≈ 65 ms of one core per device; docs/ingestion.md).
    """
    engine = make_engine(settings)
    with make_session_factory(engine)() as s:
        ent = s.query(Enterprise).one()
        hashed = hash_secret(SECRET)
        for d in range(1, devices):
            gw = Gateway(code=f"BGW-hj212-{d}", enterprise_id=ent.id, protocol="hj212",
                         secret_hash=hashed, mn=hj212_mn(d))  # fmt: skip
            s.add(gw)
            s.flush()
            s.add(Meter(code=f"BM-SO2-{d}", enterprise_id=ent.id, carrier="so2",
                        level="equipment", measurement="instant", unit_of_measure="mg/m3",
                        gateway_id=gw.id, hj212_code="a21026"))  # fmt: skip
        s.commit()
    engine.dispose()


def hj212_client(
    port: int, connections: int, per_conn: int, devices: int, server_pid: int, duration_s: int = 0
) -> None:
    """Run in its own process: connections that each wait for the reply to every frame.

    Connection ``k`` is device ``k % devices`` and sends one frame per 30 s of its own time
    line, so each device's frames arrive in time order, as from a data logger. With one
    device (``--hj212-devices 1``) all connections send as ``MN`` for its one meter, in
    interleaved blocks of seconds: late data for almost every group commit (a stress case).

    Every connection first sends one frame and waits for its reply (the device's log-in:
    its password is checked once); the timed part is the ``per_conn`` frames after it, all
    encoded beforehand, or with ``duration_s`` as many frames as fit in that time, each
    encoded just before it is sent (a soak run: nothing grows in the client).
    """
    soak = duration_s > 0
    sent = SOAK_FRAMES_PER_CONNECTION if soak else per_conn + 1
    back = timedelta(days=SOAK_DAYS_BACK if soak else 60)
    base = datetime.now(UTC).replace(microsecond=0) - back

    def stamp(k: int, i: int) -> datetime:
        if devices == 1:
            return base + timedelta(seconds=k * sent + i)
        return base + timedelta(seconds=30 * ((k // devices) * sent + i))

    def frame(k: int, i: int) -> bytes:
        values = {"a21026": (10.0 + i % 5, "N")}
        return encode_data_frame(mn=hj212_mn(k % devices), pw=SECRET, cn="2011",
                                 data_time=stamp(k, i), values=values)  # fmt: skip

    frames = [[frame(k, i) for i in range(1 if soak else sent)] for k in range(connections)]
    deadline = 0.0

    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   mine: list[bytes]) -> int:  # fmt: skip
        acks = 0
        for data in mine:
            writer.write(data)
            acks += b"CN=9014" in await reader.readuntil(b"\r\n")
        return acks

    async def send_until(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         k: int) -> int:  # fmt: skip
        acks, i = 0, 1
        while time.perf_counter() < deadline and i < sent:
            writer.write(frame(k, i))
            acks += b"CN=9014" in await reader.readuntil(b"\r\n")
            i += 1
        return acks

    async def run() -> None:
        pairs = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
        t0 = time.perf_counter()
        await asyncio.gather(*(send(r, w, f[:1]) for (r, w), f in zip(pairs, frames, strict=True)))
        warmup = time.perf_counter() - t0
        cpu0 = (_tree_cpu_s(server_pid), time.process_time(), _postgres_cpu_s())
        rss = [_tree_rss_kib(server_pid)]

        async def sample_rss() -> None:
            while True:
                await asyncio.sleep(RSS_SAMPLE_S)
                rss.append(_tree_rss_kib(server_pid))

        sampler = asyncio.create_task(sample_rss())
        t0 = time.perf_counter()
        nonlocal deadline
        deadline = t0 + duration_s
        if soak:
            acks = await asyncio.gather(*(send_until(r, w, k) for k, (r, w) in enumerate(pairs)))
        else:
            acks = await asyncio.gather(
                *(send(r, w, f[1:]) for (r, w), f in zip(pairs, frames, strict=True))
            )
        elapsed = time.perf_counter() - t0
        sampler.cancel()
        rss.append(_tree_rss_kib(server_pid))
        cpu1 = (_tree_cpu_s(server_pid), time.process_time(), _postgres_cpu_s())
        for _, writer in pairs:
            writer.close()
        server_s, client_s, pg_s = (b - a for a, b in zip(cpu0, cpu1, strict=True))
        half = len(rss) // 2
        say(f"ELAPSED {elapsed} ACKS {sum(acks)} WARMUP {warmup} "
            f"CPU_S {server_s} {client_s} {pg_s} RSS_KIB {rss[0]} {max(rss[:half + 1])} "
            f"{max(rss[half:])}")  # fmt: skip

    asyncio.run(run())


def bench_hj212(
    settings: Settings,
    frames: int,
    connections: int,
    workers: int,
    devices: int,
    writers: int | None = None,
    duration_s: int = 0,
) -> dict[str, float]:
    """``kilnwatch ingest hj212`` in its own process(es), the clients in another.

    Returns the ``RESULT`` figures: frames/s of the timed part, the seconds of the log-in
    round, CPU per frame and the receiver's memory.
    """
    setup_hj212_devices(settings, devices)
    env = {**os.environ, "KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_ENVIRONMENT": "test"}  # fmt: skip
    args = [sys.executable, "-c", "from kilnwatch.cli.ingest import app; app()", "hj212",
            "--host", "127.0.0.1", "--port", "0", "--workers", str(workers),
            "--batch-frames", "2000", "--max-delay-ms", "5"]  # fmt: skip
    if writers is not None:
        args += ["--writers", str(writers)]
    server = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    assert "ready" in line, line
    port = line.split()[4].rsplit(":", 1)[1]
    per_conn = max(1, frames // connections)
    client = [sys.executable, __file__, "--hj212-client", port, str(connections), str(per_conn),
              str(devices), str(server.pid), str(duration_s)]  # fmt: skip
    out = subprocess.run(client, check=True, capture_output=True, text=True).stdout
    server.terminate()
    stats, _ = server.communicate(timeout=60)
    say(stats.strip())
    fields = out.split()
    elapsed, acks, warmup = float(fields[1]), int(fields[3]), float(fields[5])
    assert duration_s or acks == per_conn * connections, out
    server_s, client_s, pg_s = (float(f) for f in fields[7:10])
    rss_start, rss_first_half, rss_second_half = (int(f) for f in fields[11:14])
    say(f"hj212 receiver RSS (all processes): {rss_start // 1024} MiB after the log-in round, "
        f"peak {rss_first_half // 1024} MiB in the first half of the timed part, "
        f"{rss_second_half // 1024} MiB in the second")  # fmt: skip
    busy = (server_s + client_s + pg_s) / elapsed / (os.cpu_count() or 1)
    say(f"hj212 CPU per frame (timed part): receiver {1e6 * server_s / acks:.0f} us, "
        f"clients {1e6 * client_s / acks:.0f} us, PostgreSQL {1e6 * pg_s / acks:.0f} us; "
        f"these three kept the machine {busy:.0%} busy")  # fmt: skip
    return {
        "hj212_frames_per_s": round(acks / elapsed),
        "hj212_login_round_s": round(warmup, 2),
        "hj212_receiver_cpu_us_per_frame": round(1e6 * server_s / acks),
        "hj212_client_cpu_us_per_frame": round(1e6 * client_s / acks),
        "hj212_postgres_cpu_us_per_frame": round(1e6 * pg_s / acks),
        "hj212_receiver_rss_kib_start": rss_start,
        "hj212_receiver_rss_kib_peak_first_half": rss_first_half,
        "hj212_receiver_rss_kib_peak_second_half": rss_second_half,
    }


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
    ap.add_argument("--hj212-frames", type=int, default=60_000)
    ap.add_argument("--hj212-connections", type=int, default=1_000)
    ap.add_argument(
        "--hj212-workers", type=int, default=2, help="receiver processes (one per core here)"
    )
    ap.add_argument("--hj212-writers", type=int, help="group commits in flight per process")
    ap.add_argument("--http-readings", type=int, default=20_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument(
        "--file-rows", type=int, default=2_000_000,
        help="rows of the `kilnwatch import readings` part (file_import_* keys)",
    )  # fmt: skip
    ap.add_argument(
        "--only", choices=("hj212", "file"), help="run only this part (RESULT has its keys)"
    )
    ap.add_argument(
        "--hj212-devices",
        type=int,
        help="HJ 212 devices (MNs, one SO2 meter each) the connections send as "
        "(default: one per connection; 1: all connections write one meter, late data)",
    )
    ap.add_argument(
        "--hj212-duration-s",
        type=int,
        default=0,
        help="send for this long instead of --hj212-frames (a soak run for the memory check)",
    )
    ap.add_argument("--hj212-client", nargs=6, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hj212_client:
        hj212_client(*args.hj212_client)
        return
    devices = args.hj212_devices or args.hj212_connections
    result: dict[str, object] = {}
    with throwaway_database("kilnwatch_bench", args.pg) as pg_dsn:
        with tempfile.TemporaryDirectory() as tmp:
            tmpdir = Path(tmp)
            lite_path = tmpdir / "bench.sqlite"
            pg = Settings(database_url=pg_dsn, environment="test", var_dir=tmpdir)
            lite = Settings(database_url=f"sqlite:///{lite_path}", environment="test",
                            var_dir=tmpdir)  # fmt: skip
            setup_registry(pg)
            if args.only == "hj212":
                hj = bench_hj212(
                    pg, args.hj212_frames, args.hj212_connections, args.hj212_workers, devices,
                    args.hj212_writers, args.hj212_duration_s,
                )  # fmt: skip
                say(f"hj212 {hj['hj212_frames_per_s']:,.0f} frames/s "
                    f"({args.hj212_connections} connections, {devices} devices)")  # fmt: skip
                result = {
                    **hj, "hj212_connections": args.hj212_connections,
                    "hj212_devices": devices, "hj212_workers": args.hj212_workers,
                }  # fmt: skip
                say("RESULT " + json.dumps(result))
                return
            setup_registry(lite)
            if args.only == "file":
                result = file_import(pg, lite, tmpdir, args.file_rows)
                say("RESULT " + json.dumps(result))
                return
            data = rows(args.rows)
            csv_path = tmpdir / "readings.csv"
            write_csv(csv_path, data)
            pg_ids = _meter_ids(pg)
            raw_pg_rate = raw_pg(pg_dsn, data, pg_ids)
            pg_rate = bulk(pg, csv_path, len(data))
            say(f"pg raw COPY {raw_pg_rate:,.0f}/s; kilnwatch bulk {pg_rate:,.0f}/s")
            raw_lite = raw_sqlite(lite_path, data, _meter_ids(lite))
            lite_rate = bulk(lite, csv_path, len(data))
            say(f"sqlite raw executemany {raw_lite:,.0f}/s; kilnwatch bulk {lite_rate:,.0f}/s")
            mqtt_rate, rss = bench_mqtt(pg, pg_dsn, args.mqtt_readings)
            say(f"mqtt end-to-end {mqtt_rate:,.0f} readings/s (worker peak RSS {rss} KiB)")
            hj = bench_hj212(
                pg, args.hj212_frames, args.hj212_connections, args.hj212_workers, devices,
                args.hj212_writers,
            )  # fmt: skip
            say(f"hj212 {hj['hj212_frames_per_s']:,.0f} frames/s "
                f"({args.hj212_connections} connections, {devices} devices)")  # fmt: skip
            http_rate = bench_http(pg, args.http_readings)
            say(f"http {http_rate:,.0f} readings/s")
            files = file_import(pg, lite, tmpdir, args.file_rows)
            result = {
                "rows": len(data), "baseline_table": BASELINE_TABLE,
                "pg_raw_copy_rows_per_s": round(raw_pg_rate),
                "pg_bulk_per_s": round(pg_rate),
                "pg_bulk_ratio": round(pg_rate / raw_pg_rate, 3),
                "sqlite_raw_executemany_rows_per_s": round(raw_lite),
                "sqlite_bulk_per_s": round(lite_rate),
                "sqlite_bulk_ratio": round(lite_rate / raw_lite, 3),
                "mqtt_readings_per_s": round(mqtt_rate), "mqtt_worker_peak_rss_kib": rss,
                **hj, "hj212_connections": args.hj212_connections, "hj212_devices": devices,
                "hj212_workers": args.hj212_workers,
                "http_readings_per_s": round(http_rate), **files,
            }  # fmt: skip
    say("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
