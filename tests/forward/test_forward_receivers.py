"""Forwarding against real receivers in other processes: the platform's own HJ 212 receiver
(``kilnwatch ingest hj212`` on its own database) and a receiver that never acknowledges or
refuses. The forwarder runs as ``kilnwatch forward hj212`` (a process) or in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from forward_support import (
    Receiver,
    add_readings,
    free_port,
    load_platform_registry,
    targets_toml,
    wait_for,
)
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.forward.targets import read_targets, save_targets
from kilnwatch.forward.worker import ForwardWorker
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import ForwardFrame

STUB = Path(__file__).with_name("hj212_stub_receiver.py")


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(pg_database: str, tmp_path: Path) -> Settings:
    """PostgreSQL only: these tests run real processes through outages (tens of seconds each);
    the storage paths they end in are tested on both backends elsewhere."""
    return Settings(database_url=pg_database, environment="test", var_dir=tmp_path)


def _setup(engine: Engine, tmp_path: Path, port: int, readings: range, **policy: object) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        load_platform_registry(session, tmp_path)
        save_targets(session, read_targets(targets_toml(tmp_path / "t.toml", port, **policy)))
        add_readings(session, readings)


def _frames(engine: Engine) -> list[ForwardFrame]:
    with Session(engine) as s:
        return list(s.scalars(select(ForwardFrame).order_by(ForwardFrame.id)))


def _states(engine: Engine) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in _frames(engine):
        out[f.state] = out.get(f.state, 0) + 1
    return out


class Forwarder:
    """``kilnwatch forward hj212 --target city`` in another process."""

    def __init__(self, settings: Settings) -> None:
        args = [sys.executable, "-m", "kilnwatch.cli", "forward", "hj212", "--target", "city",
                "--poll-s", "0.2"]  # fmt: skip
        env = {**os.environ, "KILNWATCH_DATABASE_URL": settings.effective_database_url,
               "KILNWATCH_ENVIRONMENT": "test"}  # fmt: skip
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "forward ready: city" in line, line

    def stop(self, sig: int = signal.SIGTERM) -> str:
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=20)
        return out


@pytest.mark.slow
def test_delivers_every_reading_once_across_a_forwarder_kill(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    receiver = Receiver(tmp_path)
    _setup(engine, tmp_path, receiver.port, range(10), backoff_initial_s=0.1)
    receiver.start()
    forwarder = Forwarder(settings)
    try:
        assert wait_for(lambda: _states(engine) == {"acked": 10}, 30), _states(engine)
        forwarder.stop(signal.SIGKILL)  # the queue is in the database: nothing is lost
        with unit_of_work(make_session_factory(engine)) as session:
            add_readings(session, range(10, 20))
        forwarder = Forwarder(settings)
        assert wait_for(lambda: _states(engine) == {"acked": 20}, 30), _states(engine)
    finally:
        out = forwarder.stop()
        receiver.stop()
    assert "forward stopped" in out and "'frames_acked': 10" in out
    assert receiver.counts() == (40, 0)  # every reading once, no repeated delivery
    so2 = sorted(v for _, v in receiver.values() if v < 40)
    assert so2 == [10.0 + m for m in range(20)]
    assert all(f.attempts == 1 for f in _frames(engine))


def _in_process(engine: Engine) -> tuple[ForwardWorker, threading.Event, threading.Thread]:
    stop = threading.Event()
    worker = ForwardWorker(make_session_factory(engine), "city", poll_s=0.1)
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    return worker, stop, thread


@pytest.mark.slow
def test_receiver_down_then_up_loses_and_doubles_nothing(engine: Engine, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path)  # not started: nothing listens on its port
    _setup(engine, tmp_path, receiver.port, range(10), backoff_initial_s=0.1, backoff_max_s=0.5)
    worker, stop, thread = _in_process(engine)
    try:
        assert wait_for(lambda: worker.stats.connect_failures >= 3, 10)
        assert _states(engine) == {"pending": 10}
        assert all(f.attempts == 0 for f in _frames(engine))  # unreachable costs no attempt
        receiver.start()
        assert wait_for(lambda: _states(engine) == {"acked": 10}, 20), _states(engine)
        receiver.stop()
        with unit_of_work(make_session_factory(engine)) as session:
            add_readings(session, range(10, 20))
        assert wait_for(lambda: _states(engine) == {"acked": 10, "pending": 10}, 10)
        failures = worker.stats.connect_failures
        assert wait_for(lambda: worker.stats.connect_failures > failures, 10)
        receiver.start()
        assert wait_for(lambda: _states(engine) == {"acked": 20}, 20), _states(engine)
    finally:
        stop.set()
        thread.join(10)
        receiver.stop()
    assert receiver.counts() == (40, 0)  # every reading once, no repeated delivery
    assert worker.stats.frames_acked == 20


def _stub(mode: str, port: int, log: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, str(STUB), mode, str(port), str(log)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.parametrize(("mode", "error"), [("silent", "no reply within 0.3 s"),
                                             ("refuse", "refused by the receiver: CN=9011 "
                                                        "return code 3")])  # fmt: skip
def test_a_receiver_that_never_acknowledges_gets_n_attempts_then_dead_letters(
    engine: Engine, tmp_path: Path, mode: str, error: str
) -> None:
    port, log = free_port(), tmp_path / "received.log"
    _setup(engine, tmp_path, port, range(4), ack_timeout_s=0.3, max_attempts=3,
           backoff_initial_s=0.05, backoff_max_s=0.1)  # fmt: skip
    stub = _stub(mode, port, log)
    worker, stop, thread = _in_process(engine)
    try:
        assert wait_for(lambda: _states(engine) == {"dead": 4}, 20), _states(engine)
    finally:
        stop.set()
        thread.join(10)
        stub.kill()
        stub.communicate()
    frames = _frames(engine)
    assert [(f.attempts, f.last_error) for f in frames] == [(3, error)] * 4
    received = log.read_text().split()
    assert sorted(received) == sorted(f.qn for f in frames for _ in range(3))
    assert worker.stats.frames_dead == 4 and worker.stats.frames_acked == 0
