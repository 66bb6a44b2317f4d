"""Engine and session factories for SQLite (embedded, WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.config import Settings
from kilnwatch.store.audit import install_audit


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while an import writes; NORMAL sync is durable in WAL mode
    # against process crashes, which is what acknowledged ingestion needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(
    settings: Settings, *, server: bool = False, statement_timeout_s: float = 0.0
) -> Engine:
    """Build the engine for ``settings``; creates the SQLite file's folder when needed.

    On PostgreSQL a long-running ``server`` process (web, receivers, writers, forwarder: short
    transactions, so one idle this long is a frozen process) gets
    ``idle_in_transaction_session_timeout`` from ``settings.db_idle_in_transaction_timeout_s``;
    batch commands (imports, verification, archiving, reports) do not: they compute between
    statements of one transaction for minutes on purpose. ``statement_timeout`` when given
    (the web server passes ``settings.web_statement_timeout_s``)."""
    idle_s = settings.db_idle_in_transaction_timeout_s if server else 0.0
    return engine_for_url(settings.effective_database_url, echo=settings.sql_echo,
                          idle_in_transaction_s=idle_s,
                          statement_timeout_s=statement_timeout_s)  # fmt: skip


def postgres_options(idle_in_transaction_s: float, statement_timeout_s: float) -> str:
    """The libpq ``options`` that set the session timeouts (whole milliseconds; 0: off)."""
    idle_ms, statement_ms = round(idle_in_transaction_s * 1000), round(statement_timeout_s * 1000)
    return (f"-c idle_in_transaction_session_timeout={idle_ms} "
            f"-c statement_timeout={statement_ms}")  # fmt: skip


def engine_for_url(
    url: str,
    echo: bool = False,
    *,
    idle_in_transaction_s: float = 0.0,
    statement_timeout_s: float = 0.0,
) -> Engine:
    """The engine of a database URL, as :func:`make_engine` builds it (worker processes get
    the URL of their parent's engine)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options = postgres_options(idle_in_transaction_s, statement_timeout_s)
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"options": options})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose changes to audited models are logged (``store/audit.py``)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    install_audit(factory)
    return factory


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error. Used at the edges only."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
