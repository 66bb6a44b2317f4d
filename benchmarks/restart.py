"""HJ 212 receiver restart: seconds until every device's first frame is answered, cold (no
remembered matches: one scrypt per device) against warm (after a restart with the remembered
matches of docs/ingestion.md, "Restart"), measured in the same run.

    python benchmarks/restart.py [--devices N]

Each device has its own password and salt (as in the field). The receiver (``serve_store``,
one process, SQLite in a temporary folder) runs in this process; the devices connect all at
once and each waits for the reply to its first frame. Ends with ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kilnwatch.config import Settings
from kilnwatch.identity import hash_secret
from kilnwatch.ingest.gateways import RememberedSecrets, SecretCheck
from kilnwatch.ingest.hj212 import encode_data_frame
from kilnwatch.ingest.hj212_store import ServeOptions, serve_store
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Enterprise, Gateway, Meter

WHEN = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def mn(d: int) -> str:
    return f"6666666{d:07d}"


def register(settings: Settings, devices: int) -> None:
    engine = make_engine(settings)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as s:
        ent = Enterprise(uscc="91370100MA3C4XY21E", name="bench", region_code="370112",
                         industry="cement")  # fmt: skip
        s.add(ent)
        s.flush()
        for d in range(devices):
            gw = Gateway(code=f"RS-{d}", enterprise_id=ent.id, protocol="hj212", mn=mn(d),
                         secret_hash=hash_secret(f"pw-{d}"))  # fmt: skip
            s.add(gw)
            s.flush()
            s.add(Meter(code=f"RS-SO2-{d}", enterprise_id=ent.id, carrier="so2",
                        level="equipment", measurement="instant", unit_of_measure="mg/m3",
                        gateway_id=gw.id, hj212_code="a21026"))  # fmt: skip
    engine.dispose()


async def login_round(
    port: int, devices: int, minute: int, wrong: int | None = None
) -> list[float | None]:
    """Seconds until each device's first frame is answered (None: no answer; device
    ``wrong`` presents a wrong password)."""
    t0 = time.perf_counter()

    async def one(d: int) -> float | None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(encode_data_frame(mn=mn(d), pw="guess" if d == wrong else f"pw-{d}",
                                       cn="2011", values={"a21026": (5.0, "N")},
                                       data_time=WHEN + timedelta(minutes=minute)))  # fmt: skip
        try:
            reply = await asyncio.wait_for(reader.readuntil(b"\r\n"), 3 if d == wrong else 300)
        except TimeoutError:
            reply = b""
        writer.close()
        return time.perf_counter() - t0 if b"CN=9014" in reply else None

    return list(await asyncio.gather(*(one(d) for d in range(devices))))


def run(
    settings: Settings, devices: int, minute: int, wrong: int | None = None
) -> tuple[list[float | None], int]:
    """One receiver life (start, a log-in round of every device, stop: what a restart ends):
    each device's answer time and the scrypt checks run."""
    engine = make_engine(settings)
    secrets = SecretCheck(remembered=RememberedSecrets.for_settings(settings))

    async def life() -> list[float | None]:
        stop, bound = asyncio.Event(), asyncio.get_running_loop().create_future()
        task = asyncio.create_task(serve_store(
            make_session_factory(engine), ServeOptions(host="127.0.0.1", port=0),
            ValidationPolicy(local_tz=settings.timezone), stop, bound.set_result, secrets,
        ))  # fmt: skip
        answered = await login_round(await bound, devices, minute, wrong)
        stop.set()
        await task
        return answered

    answered = asyncio.run(life())
    engine.dispose()
    return answered, secrets.checks


def last(answered: list[float | None]) -> float:
    """Seconds until the last answered device was answered."""
    return max(a for a in answered if a is not None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/restart.sqlite", environment="test",
                            var_dir=Path(tmp))  # fmt: skip
        register(settings, args.devices)
        cold, cold_checks = run(settings, args.devices, 0)
        warm, warm_checks = run(settings, args.devices, 1)
        cold_s, warm_s = last(cold), last(warm)
    sys.stdout.write(f"{args.devices} devices: cold log-in round {cold_s:.2f} s "
                     f"({cold_checks} scrypt checks), after a restart {warm_s:.2f} s "
                     f"({warm_checks} scrypt checks)\n")  # fmt: skip
    result = {"restart_devices": args.devices, "restart_cold_login_round_s": round(cold_s, 2),
              "restart_cold_scrypt_checks": cold_checks,
              "restart_warm_login_round_s": round(warm_s, 2),
              "restart_warm_scrypt_checks": warm_checks}  # fmt: skip
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
