"""Shared parts of the forwarding tests: registries, readings, a receiver in another process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import DeliveryRepeat, Reading
from zone import POLICY

FIXTURES = Path(__file__).parents[1] / "fixtures" / "registry"
UPSTREAM_MN, UPSTREAM_PW = "UPMN-37-0001", "up-s3cret"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)

PLATFORM_METERS = """\
meter_code,enterprise_uscc,unit_code,carrier,level,parent_meter_code,measurement,unit_of_measure,accuracy_class,calibrated_on,calibration_due_on,gateway_code,hj212_code
M-JN-SO2,91370100MA3C4XY21E,CL1,so2,equipment,,instant,mg/m3,,2025-03-01,2026-09-01,GW-JN-212,a21026
M-JN-NOX,91370100MA3C4XY21E,CL1,nox,equipment,,instant,mg/m3,,2025-03-01,2026-09-01,GW-JN-212,a21002
M-JN-E0,91370100MA3C4XY21E,,electricity,entry,,counter,kWh,0.5S,2025-01-10,2026-01-10,GW-JN-01,
"""
RECEIVER_GATEWAYS = f"""\
gateway_code,enterprise_uscc,protocol,mn,secret
UP-GW,91370100MA3C4XY21E,hj212,{UPSTREAM_MN},{UPSTREAM_PW}
"""
RECEIVER_METERS = """\
meter_code,enterprise_uscc,unit_code,carrier,level,parent_meter_code,measurement,unit_of_measure,accuracy_class,calibrated_on,calibration_due_on,gateway_code,hj212_code
UP-SO2,91370100MA3C4XY21E,CL1,so2,equipment,,instant,mg/m3,,,,UP-GW,a21026
UP-NOX,91370100MA3C4XY21E,CL1,nox,equipment,,instant,mg/m3,,,,UP-GW,a21002
"""


def registry_dir(base: Path, gateways: str | None, meters: str) -> Path:
    """The fixture registry with these gateways (None: the fixture's) and meters."""
    folder = base / "registry"
    folder.mkdir()
    for name in ("enterprises.csv", "units.csv", "gateways.csv"):
        shutil.copy(FIXTURES / name, folder / name)
    if gateways is not None:
        (folder / "gateways.csv").write_text(gateways, encoding="utf-8")
    (folder / "meters.csv").write_text(meters, encoding="utf-8")
    return folder


def load_platform_registry(session: Session, base: Path) -> None:
    import_registry(session, registry_dir(base, None, PLATFORM_METERS))


def add_readings(session: Session, minutes: range, *, so2: float = 10.0) -> None:
    """SO2 and NOx readings at ``NOW - 30 min + m`` for each m (one delivery)."""
    rows = []
    for m in minutes:
        ts = (NOW - timedelta(minutes=30) + timedelta(minutes=m)).isoformat()
        rows.append(RawReading("M-JN-SO2", ts, so2 + m, "mg/m3"))
        rows.append(RawReading("M-JN-NOX", ts, 40.0 + m, "mg/m3"))
    ingest_readings(session, rows, "file", "forward-test", policy=POLICY)


def targets_toml(path: Path, port: int, **policy: object) -> Path:
    extra = "\n".join(f"{k} = {v!r}" for k, v in policy.items())
    path.write_text(
        f"""
[[target]]
name = "city"
host = "127.0.0.1"
port = {port}
edition = "2017"
st = "31"
password = "{UPSTREAM_PW}"
start_at = 2020-01-01T00:00:00Z
{extra}

  [[target.device]]
  gateway = "GW-JN-212"
  mn = "{UPSTREAM_MN}"
""",
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


class Receiver:
    """``kilnwatch ingest hj212`` on its own SQLite database, in another process."""

    def __init__(self, base: Path) -> None:
        base = base / "receiver"
        base.mkdir()
        self.url = f"sqlite:///{base / 'receiver.sqlite'}"
        self.port = free_port()
        engine = create_engine(self.url)
        upgrade(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            import_registry(session, registry_dir(base, RECEIVER_GATEWAYS, RECEIVER_METERS))
        engine.dispose()
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        args = [sys.executable, "-m", "kilnwatch.cli", "ingest", "hj212", "--host", "127.0.0.1",
                "--port", str(self.port), "--max-delay-ms", "5"]  # fmt: skip
        env = {**os.environ, "KILNWATCH_DATABASE_URL": self.url, "KILNWATCH_ENVIRONMENT": "test"}
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "ready" in line, line

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=20)
        self.proc = None

    def counts(self) -> tuple[int, int]:
        """(readings stored, repeated deliveries) at the receiver."""
        engine = create_engine(self.url)
        try:
            with Session(engine) as s:
                readings = s.scalar(select(func.count()).select_from(Reading)) or 0
                repeats = s.scalar(select(func.count()).select_from(DeliveryRepeat)) or 0
        finally:
            engine.dispose()
        return readings, repeats

    def values(self) -> list[tuple[datetime, float]]:
        engine = create_engine(self.url)
        try:
            with Session(engine) as s:
                rows = s.execute(
                    select(Reading.ts, Reading.value).order_by(Reading.ts, Reading.value)
                )
                return [(ts, v) for ts, v in rows]
        finally:
            engine.dispose()
