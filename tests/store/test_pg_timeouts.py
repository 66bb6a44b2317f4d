"""PostgreSQL session timeouts from the settings (docs/security.md "Faults"), on the real
server: a session frozen inside a transaction is ended and its advisory lock released, the
pool's next request gets a working connection, and the web's statement timeout answers 503
``store.timeout`` instead of holding the connection."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from kilnwatch.config import Settings
from kilnwatch.store.engine import make_engine
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.outage import outage_code
from kilnwatch.web.app import create_app

pytestmark = pytest.mark.postgres
LOCK = 22_0058  # an advisory lock key of this test only


def _timeouts(conn: object) -> tuple[str, str]:
    row = conn.execute(text(  # type: ignore[attr-defined]
        "SELECT current_setting('idle_in_transaction_session_timeout'), "
        "current_setting('statement_timeout')")).one()  # fmt: skip
    return row[0], row[1]


def test_defaults_are_set_on_every_connection(pg_database: str) -> None:
    settings = Settings(database_url=pg_database, environment="test")
    assert settings.db_idle_in_transaction_timeout_s == 60
    assert settings.web_statement_timeout_s == 120
    engine = make_engine(settings)
    server = make_engine(settings, server=True)
    web = make_engine(settings, server=True, statement_timeout_s=settings.web_statement_timeout_s)
    try:
        with engine.connect() as conn:
            assert _timeouts(conn) == ("0", "0")  # batch commands: neither
        with server.connect() as conn:
            assert _timeouts(conn) == ("1min", "0")  # receivers, writers
        with web.connect() as conn:
            assert _timeouts(conn) == ("1min", "2min")
    finally:
        engine.dispose()
        server.dispose()
        web.dispose()


def test_a_batch_command_may_compute_inside_its_transaction(pg_database: str) -> None:
    # a registry import hashing thousands of gateway secrets, a province verified: minutes of
    # work between two statements of one transaction are not a frozen process
    settings = Settings(database_url=pg_database, environment="test",
                        db_idle_in_transaction_timeout_s=0.3)  # fmt: skip
    engine = make_engine(settings)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT 1"))
            time.sleep(0.8)
            assert conn.execute(text("SELECT 2")).scalar() == 2
    finally:
        engine.dispose()


def test_a_session_frozen_in_a_transaction_is_ended_and_its_lock_freed(pg_database: str) -> None:
    settings = Settings(database_url=pg_database, environment="test",
                        db_idle_in_transaction_timeout_s=0.3)  # fmt: skip
    engine = make_engine(settings, server=True)
    try:
        frozen = engine.connect()
        frozen.begin()
        frozen.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
        # the process stops here (SIGSTOP, a lost host): it sends nothing more
        with engine.connect() as other:
            try_lock = text("SELECT pg_try_advisory_xact_lock(:k)")
            assert other.execute(try_lock, {"k": LOCK}).scalar() is False
            other.rollback()
            started, freed = time.monotonic(), False
            while not freed and time.monotonic() - started < 10:
                time.sleep(0.05)
                freed = bool(other.execute(try_lock, {"k": LOCK}).scalar())
                other.rollback()
            waited = time.monotonic() - started
        assert freed and waited < 5, waited
        with pytest.raises(DBAPIError) as ended:  # the frozen one wakes up: told, not hung
            frozen.execute(text("SELECT 1"))
        assert "idle-in-transaction timeout" in str(ended.value)
        assert outage_code(ended.value) == "store.unavailable"  # a request answers 503
        frozen.close()  # back to the pool, invalidated
        with engine.connect() as conn:  # the next user of the pool gets a working connection
            assert conn.execute(text("SELECT 1")).scalar() == 1
        print(f"\nFIGURE idle_in_transaction: lock freed after {waited:.2f} s (timeout 0.3 s)")
    finally:
        engine.dispose()


def test_the_web_recovers_after_its_session_was_ended_and_times_out_statements(
    pg_database: str,
) -> None:
    settings = Settings(database_url=pg_database, environment="test",
                        db_idle_in_transaction_timeout_s=0.3,
                        web_statement_timeout_s=0.2)  # fmt: skip
    migrated = make_engine(settings)
    upgrade(migrated)
    migrated.dispose()
    app = create_app(settings)
    with TestClient(app) as client:
        # a request handler that hangs inside its transaction, then gives its connection back
        with app.state.session_factory() as hung:
            hung.execute(text("SELECT 1"))
            time.sleep(0.8)
            with pytest.raises(DBAPIError):
                hung.execute(text("SELECT 1"))
        form = {"username": "nobody-22", "password": "not-this-one"}
        r = client.post("/api/v1/auth/token", data=form)  # the next request: served, not 503
        assert r.status_code == 401 and r.json()["error"]["code"] == "auth.failed", r.text
        with app.state.session_factory() as slow, pytest.raises(OperationalError) as cancelled:
            slow.execute(text("SELECT pg_sleep(2)"))
        assert outage_code(cancelled.value) == "store.timeout"  # answered 503, not 500
    app.state.engine.dispose()
