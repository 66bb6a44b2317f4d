"""Shared pieces of the ingest-log tests: a registry with meters, readings to send, writers
running in a thread, and what the store holds afterwards."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kilnwatch.ingest.log.stream import LogOptions
from kilnwatch.ingest.log.writer import LogWriter, WriterOptions, WriterStats
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Enterprise, Gateway, Meter, Reading
from nats_servers import free_ports
from zone import POLICY

REGISTRY = Path(__file__).parent / "fixtures" / "registry"
GATEWAY = ("GW-JN-01", "s3cret-jn-01")
ENTERPRISE = "91370100MA3C4XY21E"
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)


def unique_log(servers: str | list[str], **options: object) -> LogOptions:
    """Options for a stream, subject and consumer of this test only."""
    tag = uuid.uuid4().hex[:8]
    urls = tuple(servers.split(",")) if isinstance(servers, str) else tuple(servers)
    fields: dict[str, object] = {
        "stream": f"KWTEST_{tag}",
        "subject": f"kwtest.{tag}",
        "consumer": f"w{tag}",
        **options,
    }
    return LogOptions(servers=urls, **fields)  # type: ignore[arg-type]


def log_meters(session: Session, n: int) -> list[str]:
    """The registry fixture plus ``n`` interval meters (m3) of the HTTP gateway GW-JN-01."""
    import_registry(session, REGISTRY)
    enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == ENTERPRISE))
    gateway = session.scalar(select(Gateway).where(Gateway.code == GATEWAY[0]))
    assert enterprise is not None and gateway is not None
    codes = [f"M-LOG-{i:03d}" for i in range(n)]
    for code in codes:
        meter = Meter(code=code, enterprise_id=enterprise.id, carrier="water", level="entry",
                      measurement="interval", unit_of_measure="m3",
                      gateway_id=gateway.id)  # fmt: skip
        session.add(meter)
    session.flush()
    return codes


def setup_meters(engine: Engine, n: int) -> list[str]:
    with unit_of_work(make_session_factory(engine)) as session:
        return log_meters(session, n)


def reading(code: str, i: int) -> dict[str, object]:
    """Reading ``i`` of a meter: one a minute, value (i mod 13) × 0.25 (exact in binary)."""
    return {"meter_code": code, "ts": (T0 + timedelta(minutes=i)).isoformat(),
            "value": (i % 13) * 0.25, "unit": "m3"}  # fmt: skip


def expected_sum(count: int) -> float:
    return sum((i % 13) * 0.25 for i in range(count))


@dataclass
class Stored:
    rows: int
    distinct: int
    max_version: int
    by_meter: dict[str, tuple[int, float]]


def stored(engine: Engine) -> Stored:
    """What ``readings`` holds: rows, distinct (meter, ts), highest version, per meter
    (count, sum of values)."""
    with make_session_factory(engine)() as s:
        rows = s.scalar(select(func.count()).select_from(Reading)) or 0
        pairs = select(Reading.meter_id, Reading.ts).distinct().subquery()
        distinct = s.scalar(select(func.count()).select_from(pairs)) or 0
        top = s.scalar(select(func.max(Reading.version))) or 0
        per = s.execute(
            select(Meter.code, func.count(), func.sum(Reading.value))
            .join(Meter, Meter.id == Reading.meter_id)
            .group_by(Meter.code)
        ).all()
    return Stored(rows, distinct, top, {c: (int(n), float(v)) for c, n, v in per})


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@contextmanager
def writer_thread(engine: Engine, log: LogOptions, batch: int = 50) -> Iterator[LogWriter]:
    """A :class:`LogWriter` on its own event loop in a thread, stopped (batch committed and
    acknowledged) when the block ends."""
    writer = LogWriter(make_session_factory(engine), log,
                       WriterOptions(batch=batch, fetch_timeout_s=0.2), POLICY)  # fmt: skip
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = asyncio.Event()
    result: list[WriterStats | BaseException] = []

    def run() -> None:
        try:
            result.append(loop.run_until_complete(writer.run(stop, ready)))
        except BaseException as exc:  # reported by the test thread
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_for(lambda: ready.is_set() or bool(result), 30, "the writer to subscribe")
    if result and isinstance(result[0], BaseException):
        raise result[0]
    try:
        yield writer
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
        if result and isinstance(result[0], BaseException):
            raise result[0]


class Writer:
    """One ``kilnwatch ingest writer`` process (its output in ``log``) with a metrics port."""

    def __init__(self, name: str, servers: str, env: dict[str, str], log: Path,
                 args: list[str]) -> None:  # fmt: skip
        self.name = name
        self.port = free_ports(1)[0]
        self.log = log
        argv = [sys.executable, "-m", "kilnwatch.cli", "ingest", "writer", "--nats", servers,
                *args, "--metrics-port", str(self.port)]  # fmt: skip
        with log.open("wb") as out:
            self.proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)  # fmt: skip

    def metric(self, name: str) -> float:
        """The value of an unlabelled metric (or the first sample of a labelled one)."""
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2).text
        for line in text.splitlines():
            if line.startswith((name + " ", name + "{")):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"{name} not in the metrics of {self.name}")

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"writer {self.name} exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
