"""Soak: sustained mixed ingestion and API/page traffic against the real servers (issue 22).

    python benchmarks/soak.py [--duration-s 20] [--rate 50] [--requests-per-s 5]
                              [--pg postgresql://postgres@127.0.0.1:5432/postgres | --sqlite]
                              [--broker mqtt://127.0.0.1:1883] [--max-growth-mib 64]

Creates (and drops) its own PostgreSQL database (or a temporary SQLite file with
``--sqlite``), registers one gateway and meter per protocol and an administrator, and starts
``kilnwatch serve``, ``kilnwatch ingest mqtt`` and ``kilnwatch ingest hj212`` as their own
processes on loopback ports (the MQTT worker on the given broker, under a topic prefix of its
own). For ``--duration-s`` it then sends, each at about ``--rate`` readings/s:

- HTTP: ``POST /api/v1/ingest/readings`` batches of 10 (Basic credentials; a 503 is sent
  again after its ``Retry-After``, as a gateway does);
- MQTT: QoS 1 messages of 10 readings (sent again when the broker answers "no matching
  subscribers");
- HJ 212: one data frame per reading on one connection, each reply awaited;

and ``--requests-per-s`` reads of the API (bearer token: enterprises, readings, dead letters,
health) and of the sign-in page. Every reading has its own timestamp.

Measured: readings acknowledged per protocol (HTTP 200 answers, MQTT PUBACKs, HJ 212 replies)
against rows stored (``lost`` = acknowledged but not stored, ``doubled`` = rows beyond one per
timestamp), 5xx answers, request latency (p50/p95, first and second half) and the resident
memory of each server process (``VmRSS``, sampled every 2 s; ``growth`` = mean of the last
quarter minus mean of the second quarter, after warm-up). Ends with ``RESULT {json}``; exits
1 when anything was lost or doubled, a 5xx was answered or a process grew by more than
``--max-growth-mib``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from kilnwatch.config import Settings
from kilnwatch.identity import Role, hash_secret
from kilnwatch.ingest.hj212 import encode_data_frame
from kilnwatch.ingest.mqtt.parse import readings_topic
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Gateway, Meter, Reading
from kilnwatch.store.repos.users import add_user
from kilnwatch.store.seed import seed_regions

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # pg_support
from pg_support import throwaway_database  # noqa: E402

SECRET = "soak-gateway-secret"
ADMIN = ("soak-admin", "soak-admin-password")
MN = "77777770000001"
BATCH = 10
RSS_SAMPLE_S = 2.0
NO_MATCHING_SUBSCRIBERS = 0x10
START_TIMEOUT_S = 90.0
DRAIN_TIMEOUT_S = 120.0
CLI = "from kilnwatch.cli import app; app()"
INGEST_CLI = "from kilnwatch.cli.ingest import app; app()"


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(settings: Settings) -> dict[str, int]:
    """An enterprise, one gateway and meter per protocol, an administrator: meter ids."""
    engine = make_engine(settings)
    upgrade(engine)
    with engine.begin() as conn:
        seed_regions(conn)
    with make_session_factory(engine)() as s:
        ent = Enterprise(
            uscc="91370100MA3C4XY21E", name="soak", region_code="370112", industry="cement"
        )
        s.add(ent)
        s.flush()
        meters = {}
        for p in ("http", "mqtt", "hj212"):
            gw = Gateway(
                code=f"SGW-{p}",
                enterprise_id=ent.id,
                protocol=p,
                secret_hash=hash_secret(SECRET),
                mn=MN if p == "hj212" else None,
            )
            s.add(gw)
            s.flush()
            m = Meter(
                code=f"SM-{p}",
                enterprise_id=ent.id,
                carrier="so2",
                level="equipment",
                measurement="instant",
                unit_of_measure="mg/m3",
                gateway_id=gw.id,
                hj212_code="a21026" if p == "hj212" else None,
            )
            s.add(m)
            s.flush()
            meters[p] = m.id
        add_user(s, ADMIN[0], ADMIN[1], Role.ADMIN)
        s.commit()
    engine.dispose()
    return meters


def stored(settings: Settings, meter_ids: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Per protocol: rows stored and distinct timestamps among them."""
    engine = make_engine(settings)
    out = {}
    with make_session_factory(engine)() as s:
        for p, mid in meter_ids.items():
            # one statement: two counts read apart can straddle a writer's commit
            rows, times = s.execute(
                select(func.count(), func.count(func.distinct(Reading.ts))).where(
                    Reading.meter_id == mid
                )
            ).one()
            out[p] = (rows or 0, times or 0)
    engine.dispose()
    return out


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children [KiB]."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def ready_line(proc: subprocess.Popen[str]) -> str:
    """The first line a server prints, which says it is ready; what it prints after is
    drained (see :func:`drain`)."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "ready" not in line:
        raise RuntimeError(f"{proc.args!r} did not start: {line!r}")
    drain(proc)
    return line


_DRAINS: dict[int, threading.Thread] = {}


def drain(proc: subprocess.Popen[str]) -> None:
    """Read a server's output to its end in the background, then close it: a pipe nobody
    reads fills (64 KiB) and the server's next log line then blocks it — the web server's
    access log did so after about a minute of soak. :func:`stop` waits for it."""
    assert proc.stdout is not None
    out = proc.stdout

    def pump() -> None:
        with out:
            for _ in out:
                pass

    _DRAINS[proc.pid] = threading.Thread(target=pump, daemon=True)
    _DRAINS[proc.pid].start()


def stop(proc: subprocess.Popen[str]) -> None:
    """Wait for a server told to stop (killed after 30 s), and for its output's end."""
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    pump = _DRAINS.pop(proc.pid, None)
    if pump is not None:
        pump.join(5)
    elif proc.stdout is not None:
        proc.stdout.close()


def wait_http(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@dataclass
class Counts:
    """What one load thread sent and had acknowledged."""

    sent: int = 0
    acked: int = 0
    server_errors: int = 0
    retried: int = 0
    latencies_ms: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since the start, latency) of each request."""


def paced(rate: float, deadline: float, step: Callable[[int], None]) -> None:
    """Call ``step(i)`` ``rate`` times a second until ``deadline`` (not faster, catching up
    when late)."""
    t0 = time.monotonic()
    i = 0
    while time.monotonic() < deadline:
        due = t0 + i / rate
        if due > time.monotonic():
            time.sleep(due - time.monotonic())
        step(i)
        i += 1


def readings(code: str, first: int, n: int, base: datetime) -> list[dict[str, object]]:
    return [
        {
            "meter_code": code,
            "unit": "mg/m3",
            "value": 10.0 + (k % 5),
            "ts": (base + timedelta(seconds=k)).isoformat(),
        }
        for k in range(first, first + n)
    ]


def http_load(url: str, rate: float, deadline: float, base: datetime, c: Counts) -> None:
    with httpx.Client(base_url=url, auth=("SGW-http", SECRET), timeout=30) as client:

        def step(i: int) -> None:
            body = {"readings": readings("SM-http", i * BATCH, BATCH, base)}
            c.sent += BATCH
            while True:
                r = client.post("/api/v1/ingest/readings", json=body)
                if r.status_code == 503:  # the gateway's rule: send again after Retry-After
                    c.retried += 1
                    time.sleep(float(r.headers.get("Retry-After", "1")))
                    continue
                break
            if r.status_code >= 500:
                c.server_errors += 1
            elif r.status_code == 200:
                c.acked += r.json()["accepted"] + r.json()["duplicates"]

        paced(rate / BATCH, deadline, step)


def mqtt_load(
    port: int, prefix: str, rate: float, deadline: float, base: datetime, c: Counts
) -> Callable[[], None]:
    """Publish until ``deadline``; returns a function that waits for the last PUBACKs."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"soak-pub-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    lock = threading.Lock()
    pending: dict[int, bytes] = {}
    early: dict[int, int] = {}
    topic = readings_topic("SGW-mqtt", prefix)

    def send(payload: bytes) -> None:
        info = client.publish(topic, payload, qos=1)
        with lock:
            code = early.pop(info.mid, None)
            if code is None:
                pending[info.mid] = payload
                return
        settle(payload, code)

    def settle(payload: bytes, code: int) -> None:
        if code == NO_MATCHING_SUBSCRIBERS:
            c.retried += 1
            threading.Timer(0.2, send, args=(payload,)).start()
        else:
            with lock:
                c.acked += BATCH

    def on_publish(_c: object, _u: object, mid: int, reason: object, _p: object) -> None:
        code = int(getattr(reason, "value", 0))
        with lock:
            payload = pending.pop(mid, None)
            if payload is None:
                early[mid] = code
                return
        settle(payload, code)

    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()

    def step(i: int) -> None:
        c.sent += BATCH
        send(json.dumps({"readings": readings("SM-mqtt", i * BATCH, BATCH, base)}).encode())

    paced(rate / BATCH, deadline, step)

    def finish() -> None:
        end = time.monotonic() + DRAIN_TIMEOUT_S
        while c.acked < c.sent and time.monotonic() < end:
            time.sleep(0.1)
        client.disconnect()
        client.loop_stop()

    return finish


def hj212_load(port: int, rate: float, deadline: float, base: datetime, c: Counts) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        reader = sock.makefile("rb")

        def step(i: int) -> None:
            frame = encode_data_frame(
                mn=MN,
                pw=SECRET,
                cn="2011",
                data_time=base + timedelta(seconds=i),
                values={"a21026": (10.0 + i % 5, "N")},
            )
            c.sent += 1
            sock.sendall(frame)
            c.acked += b"CN=9014" in reader.readline()

        paced(rate, deadline, step)


def request_load(url: str, rate: float, deadline: float, t0: float, c: Counts) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        paths = [
            "/api/v1/enterprises",
            "/api/v1/ingest/dead-letters",
            "/healthz",
            "/signin",
            "/api/v1/auth/me",
        ]

        def step(i: int) -> None:
            started = time.monotonic()
            r = client.get(paths[i % len(paths)], headers=auth)
            c.sent += 1
            c.latencies_ms.append((started - t0, 1000 * (time.monotonic() - started)))
            if r.status_code >= 500:
                c.server_errors += 1
            elif r.status_code < 400:
                c.acked += 1

        paced(rate, deadline, step)


def latency(c: Counts, duration_s: float) -> dict[str, float]:
    halves = (
        [ms for t, ms in c.latencies_ms if t < duration_s / 2],
        [ms for t, ms in c.latencies_ms if t >= duration_s / 2],
    )
    out = {}
    for name, values in zip(("first_half", "second_half"), halves, strict=True):
        if len(values) >= 2:
            q = statistics.quantiles(values, n=20)
            out[f"p50_ms_{name}"] = round(statistics.median(values), 1)
            out[f"p95_ms_{name}"] = round(q[18], 1)
    return out


def growth(samples: list[int]) -> dict[str, float]:
    """Memory figures of one process from its samples [MiB]."""
    n = len(samples)
    if n < 4:
        return {"start_mib": round(samples[0] / 1024, 1), "growth_mib": 0.0}
    second = samples[n // 4 : n // 2]
    last = samples[3 * n // 4 :]
    return {
        "start_mib": round(samples[0] / 1024, 1),
        "peak_mib": round(max(samples) / 1024, 1),
        "growth_mib": round((statistics.mean(last) - statistics.mean(second)) / 1024, 1),
    }


def run(settings: Settings, args: argparse.Namespace) -> dict[str, object]:
    began = time.monotonic()
    meter_ids = setup(settings)
    say(f"database ready after {time.monotonic() - began:.1f} s")
    env = {
        **os.environ,
        "KILNWATCH_DATABASE_URL": settings.effective_database_url,
        "KILNWATCH_ENVIRONMENT": "test",
        "KILNWATCH_SECRET_KEY": settings.secret_key,
    }
    tag = uuid.uuid4().hex[:8]
    broker_port = args.broker.removeprefix("mqtt://").rsplit(":", 1)[1]
    web_port = free_port()
    url = f"http://127.0.0.1:{web_port}"
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        procs["web"] = start([CLI, "serve", "--host", "127.0.0.1", "--port", str(web_port)], env)
        drain(procs["web"])
        mqtt_args = ["mqtt", "--broker", args.broker, "--client-id", f"soak-{tag}"]
        mqtt_args += ["--group", f"soak{tag}", "--prefix", f"kwsoak/{tag}", "--max-delay-ms", "50"]
        procs["mqtt"] = start([INGEST_CLI, *mqtt_args], env)
        hj212_args = ["hj212", "--host", "127.0.0.1", "--port", "0", "--max-delay-ms", "5"]
        procs["hj212"] = start([INGEST_CLI, *hj212_args], env)  # the three start together
        ready_line(procs["mqtt"])
        hj212_port = int(ready_line(procs["hj212"]).split()[4].rsplit(":", 1)[1])
        wait_http(f"{url}/healthz")
        say(f"servers ready after {time.monotonic() - began:.1f} s")
        base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
        counts = {p: Counts() for p in ("http", "mqtt", "hj212", "requests")}
        rss: dict[str, list[int]] = {name: [] for name in procs}
        t0 = time.monotonic()
        deadline = t0 + args.duration_s
        finish_mqtt: list[Callable[[], None]] = []
        threads = [
            threading.Thread(
                target=http_load, args=(url, args.rate, deadline, base, counts["http"])
            ),
            threading.Thread(
                target=lambda: finish_mqtt.append(
                    mqtt_load(
                        int(broker_port), f"kwsoak/{tag}", args.rate, deadline, base, counts["mqtt"]
                    )
                )
            ),
            threading.Thread(
                target=hj212_load, args=(hj212_port, args.rate, deadline, base, counts["hj212"])
            ),
            threading.Thread(
                target=request_load,
                args=(url, args.requests_per_s, deadline, t0, counts["requests"]),
            ),
        ]
        for t in threads:
            t.start()
        while time.monotonic() < deadline:
            for name, proc in procs.items():
                rss[name].append(rss_kib(proc.pid))
            time.sleep(min(RSS_SAMPLE_S, max(0.0, deadline - time.monotonic())))
        for t in threads:
            t.join(DRAIN_TIMEOUT_S)
        for finish in finish_mqtt:
            finish()
        acked = {p: counts[p].acked for p in ("http", "mqtt", "hj212")}
        end = time.monotonic() + DRAIN_TIMEOUT_S
        seen = stored(settings, meter_ids)
        while any(seen[p][1] < acked[p] for p in acked) and time.monotonic() < end:
            time.sleep(0.5)
            seen = stored(settings, meter_ids)
        say(f"load done, stored everything acknowledged after {time.monotonic() - began:.1f} s")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            stop(proc)
    say(f"servers stopped after {time.monotonic() - began:.1f} s")
    seen = stored(settings, meter_ids)  # final: a double may land after the last count
    lost = {p: max(0, acked[p] - seen[p][1]) for p in acked}
    doubled = {p: seen[p][0] - seen[p][1] for p in acked}
    server_errors = sum(c.server_errors for c in counts.values())
    memory = {name: growth(samples) for name, samples in rss.items() if samples}
    leaking = [n for n, m in memory.items() if m["growth_mib"] > args.max_growth_mib]
    return {
        "duration_s": args.duration_s,
        "database": "sqlite" if args.sqlite else "postgresql",
        "readings_sent": {p: counts[p].sent for p in acked},
        "readings_acknowledged": acked,
        "readings_stored": {p: seen[p][1] for p in acked},
        "lost": sum(lost.values()),
        "doubled": sum(doubled.values()),
        "http_5xx": server_errors,
        "resent": {
            "http_503": counts["http"].retried,
            "mqtt_no_subscriber": counts["mqtt"].retried,
        },
        "requests": counts["requests"].sent,
        "requests_ok": counts["requests"].acked,
        "request_latency": latency(counts["requests"], args.duration_s),
        "rss": memory,
        "max_growth_mib": args.max_growth_mib,
        "ok": not any(lost.values())
        and not any(doubled.values())
        and server_errors == 0
        and not leaking
        and all(acked.values()),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--duration-s", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=50.0, help="readings/s per protocol")
    ap.add_argument("--requests-per-s", type=float, default=5.0)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    ap.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    ap.add_argument("--max-growth-mib", type=float, default=64.0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kwsoak") as tmp:
        secret = uuid.uuid4().hex + uuid.uuid4().hex
        if args.sqlite:
            settings = Settings(
                database_url=f"sqlite:///{Path(tmp) / 'soak.sqlite'}",
                environment="test",
                var_dir=Path(tmp),
                secret_key=secret,
            )
            result = run(settings, args)
        else:
            with throwaway_database("kilnwatch_soak", args.pg) as dsn:
                settings = Settings(
                    database_url=dsn, environment="test", var_dir=Path(tmp), secret_key=secret
                )
                result = run(settings, args)
    say("RESULT " + json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
