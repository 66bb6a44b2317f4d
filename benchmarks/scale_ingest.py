"""Ingest throughput through the log as writers are added, against the direct-write path.

    python benchmarks/scale_ingest.py [--writers 1,2,4] [--readings N] [--nats-nodes 3|1]

(PostgreSQL server: ``KILNWATCH_BENCH_PG``, default ``postgresql://postgres@127.0.0.1:5432/postgres``.)

One run, one data set: ``--readings`` readings of ``GATEWAYS`` gateways (each its own
enterprise-like sender with ``METERS_PER_GATEWAY`` interval meters, one reading a minute per
meter), in deliveries of ``DELIVERY_READINGS`` readings of one gateway, as the HTTP front end
receives them.

* Baseline (``baseline_direct_readings_per_s``): the same deliveries stored by one process
  through the direct path, one transaction per delivery (the HTTP front end without a log).
* For each writer count (``ingest_readings_per_s_by_writers``): the readings table emptied, a
  fresh stream on a private JetStream cluster (``--nats-nodes``, replicas = nodes, loopback
  ports), N ``kilnwatch ingest writer`` processes started and ready, then the clock runs from
  the first publish of the deliveries until every reading is stored (checked: exactly the
  readings sent, one version each). The publishing is inside the timed part; it is also
  reported alone (``ingest_publish_readings_per_s``).

Creates and drops its own PostgreSQL database. :func:`measure` is what
``benchmarks/scale.py`` calls; alone, the script prints one line per measurement and ends with
``RESULT {json}``. On a shared 2-core machine the writers, the NATS nodes and PostgreSQL
compete for the same cores: the figures are under load, compare them within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # NATS cluster, writer, databases

from kilnwatch.config import Settings  # noqa: E402
from kilnwatch.ingest.log.publisher import LogPublisher  # noqa: E402
from kilnwatch.ingest.log.stream import LogOptions  # noqa: E402
from kilnwatch.ingest.payloads import reading_from_mapping  # noqa: E402
from kilnwatch.ingest.pipeline import Delivery, ingest_deliveries  # noqa: E402
from kilnwatch.ingest.validate import GatewayInfo, ValidationPolicy  # noqa: E402
from kilnwatch.store.engine import make_engine, make_session_factory  # noqa: E402
from kilnwatch.store.migrate import upgrade  # noqa: E402
from kilnwatch.store.models import Enterprise, Gateway, Meter  # noqa: E402
from log_support import Writer, wait_for  # noqa: E402
from nats_servers import running  # noqa: E402
from pg_support import throwaway_database  # noqa: E402

PG_ADMIN = os.environ.get("KILNWATCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
GATEWAYS = 50
METERS_PER_GATEWAY = 4
DELIVERY_READINGS = 500
WRITER_BATCH = 10  # messages per writer transaction: 5 000 readings, like the MQTT worker's
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=200)
TABLES = ("readings", "rollups", "ingest_batches", "dead_letters")
POLICY_ZONE = "Asia/Shanghai"


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def setup_registry(settings: Settings) -> list[GatewayInfo]:
    """One enterprise per gateway, ``METERS_PER_GATEWAY`` interval meters each."""
    engine = make_engine(settings)
    upgrade(engine)
    out = []
    with make_session_factory(engine)() as s:
        for g in range(GATEWAYS):
            ent = Enterprise(uscc=f"91370100MA{g:07d}X", name=f"scale {g}",
                             region_code="370112", industry="cement")  # fmt: skip
            s.add(ent)
            s.flush()
            gw = Gateway(code=f"SGW-{g:03d}", enterprise_id=ent.id, protocol="http")
            s.add(gw)
            s.flush()
            for m in range(METERS_PER_GATEWAY):
                s.add(Meter(code=f"SM-{g:03d}-{m}", enterprise_id=ent.id, carrier="water",
                            level="entry", measurement="interval", unit_of_measure="m3",
                            gateway_id=gw.id))  # fmt: skip
            out.append(GatewayInfo(gw.id, gw.code, ent.id, "http"))
        s.commit()
    engine.dispose()
    return out


def deliveries(gateways: list[GatewayInfo], readings: int) -> list[Delivery]:
    """Each gateway's meters in time order, deliveries of the gateways interleaved."""
    per_gateway = max(DELIVERY_READINGS, readings // len(gateways))
    per_meter_step = DELIVERY_READINGS // METERS_PER_GATEWAY
    rounds = per_gateway // DELIVERY_READINGS
    out = []
    for r in range(rounds):
        for g in gateways:
            rows = []
            for m in range(METERS_PER_GATEWAY):
                for i in range(r * per_meter_step, (r + 1) * per_meter_step):
                    item = {"meter_code": f"SM-{g.code[4:]}-{m}", "unit": "m3",
                            "ts": (START + timedelta(minutes=i)).isoformat(),
                            "value": float((i * 7 + m) % 50)}  # fmt: skip
                    rows.append(reading_from_mapping(item, len(rows) + 1))
            out.append(Delivery("http", g.code, rows, g))
    return out[: max(1, readings // DELIVERY_READINGS)]


def empty_tables(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)}")


def stored_readings(dsn: str) -> tuple[int, int]:
    """Rows of ``readings`` and the highest version."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*), coalesce(max(version), 0) FROM readings").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def direct(settings: Settings, data: list[Delivery]) -> float:
    """Readings/s of the direct path: one transaction per delivery, in this process."""
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    policy = ValidationPolicy(local_tz=POLICY_ZONE)
    t0 = time.perf_counter()
    for d in data:
        with factory() as session:
            ingest_deliveries(session, [d], policy=policy)
            session.commit()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return sum(len(d.rows) for d in data) / elapsed


def through_log(settings: Settings, servers: list[str], replicas: int, data: list[Delivery],
                writers: int, tmp: Path) -> tuple[float, float]:  # fmt: skip
    """Readings/s stored by ``writers`` writer processes, and the publishing rate alone."""
    tag = uuid.uuid4().hex[:8]
    log = LogOptions(servers=tuple(servers), stream=f"SCALE_{tag}", subject=f"scale.{tag}",
                     consumer=f"w{tag}", replicas=replicas)  # fmt: skip
    publisher = LogPublisher(log, "scale-ingest-bench")  # creates the stream
    env = {**os.environ, "KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_ENVIRONMENT": "test", "KILNWATCH_VAR_DIR": str(tmp),
           "PYTHONPYCACHEPREFIX": str(tmp / "pycache")}  # fmt: skip
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    args = ["--stream", log.stream, "--subject", log.subject, "--consumer", log.consumer,
            "--batch", str(WRITER_BATCH)]  # fmt: skip
    pool = [Writer(f"w{i}", ",".join(servers), env, tmp / f"writer-{tag}-{i}.log", args)
            for i in range(writers)]  # fmt: skip
    total = sum(len(d.rows) for d in data)
    try:
        wait_for(lambda: all(w.healthy() for w in pool), 180, f"{writers} writers")
        t0 = time.perf_counter()
        for i in range(0, len(data), 50):  # 50 deliveries published concurrently
            publisher.publish(data[i : i + 50])
        published = time.perf_counter() - t0
        dsn = settings.effective_database_url
        wait_for(lambda: stored_readings(dsn)[0] >= total, 600, f"{total} stored readings")
        elapsed = time.perf_counter() - t0
        rows, version = stored_readings(dsn)
        assert (rows, version) == (total, 1), f"stored {rows} rows (max version {version})"
    finally:
        for w in pool:
            w.stop()
        asyncio.run(_delete_stream(log))
        publisher.close()
    return total / elapsed, total / published


async def _delete_stream(log: LogOptions) -> None:
    import nats

    client = await nats.connect(servers=list(log.servers))
    try:
        await client.jetstream().delete_stream(log.stream)
    finally:
        await client.close()


def measure(writers: list[int], readings: int, nats_nodes: int = 3) -> dict[str, object]:
    """Ingest readings/s through the log for each writer count, and the direct baseline.

    Returns
    -------
    dict
        ``ingest_readings_per_s_by_writers`` (writers as text → readings/s),
        ``baseline_direct_readings_per_s``, ``ingest_publish_readings_per_s`` (per writer
        count), ``ingest_readings``, ``ingest_nats_nodes``, ``ingest_writer_batch_readings``.
    """
    by_writers: dict[str, float] = {}
    publish: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="scale-ingest-") as tmpdir,
        throwaway_database("kilnwatch_scale_ingest", PG_ADMIN) as dsn,
    ):
        tmp = Path(tmpdir)
        settings = Settings(database_url=dsn, environment="test", var_dir=tmp)
        data = deliveries(setup_registry(settings), readings)
        count = sum(len(d.rows) for d in data)
        baseline = direct(settings, data)
        say(f"direct path (1 process, 1 transaction per delivery): {baseline:,.0f} readings/s")
        with running(tmp / "nats", nodes=nats_nodes, name="kwscale") as cluster:
            for n in writers:
                empty_tables(dsn)
                rate, pub = through_log(settings, cluster.urls, nats_nodes, data, n, tmp)
                by_writers[str(n)] = round(rate, 1)
                publish[str(n)] = round(pub, 1)
                say(f"through the log, {n} writer(s): {rate:,.0f} readings/s "
                    f"(publishing alone {pub:,.0f} readings/s)")  # fmt: skip
    return {
        "ingest_readings_per_s_by_writers": by_writers,
        "baseline_direct_readings_per_s": round(baseline, 1),
        "ingest_publish_readings_per_s": publish,
        "ingest_readings": count,
        "ingest_nats_nodes": nats_nodes,
        "ingest_writer_batch_readings": WRITER_BATCH * DELIVERY_READINGS,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--writers", default="1,2,4", help="writer counts, comma-separated")
    ap.add_argument("--readings", type=int, default=100_000)
    ap.add_argument("--nats-nodes", type=int, default=3, choices=(1, 3))
    args = ap.parse_args()
    writers = [int(w) for w in args.writers.split(",") if w.strip()]
    result = measure(writers, args.readings, args.nats_nodes)
    say("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
