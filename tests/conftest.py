"""Shared fixtures: the same tests run on SQLite and on the real PostgreSQL server.

Under ``CI=true`` a missing server is a failure, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import Base, Region
from kilnwatch.store.seed import seed_regions
from pg_support import PG_ADMIN_DSN, throwaway_database
from servers import need_server

# The CLI's Rich consoles take their width when first built, i.e. in whichever test runs a
# command first; a fixed width keeps tables whole whatever the order (pytest-xdist).
os.environ["COLUMNS"] = "200"

FIXTURES = Path(__file__).parent / "fixtures"


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    need_server(_pg_reachable(), "PostgreSQL at 127.0.0.1:5432")
    with throwaway_database("kilnwatch_test") as url:
        yield url


@pytest.fixture
def own_pg_database() -> Iterator[str]:
    """A PostgreSQL database of one test only, dropped afterwards: for tests of schema-level
    state (readings' monthly partitions) that the session's shared database keeps between tests."""
    need_server(_pg_reachable(), "PostgreSQL at 127.0.0.1:5432")
    with throwaway_database("kilnwatch_own") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'kilnwatch.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a migrated, empty database on each backend."""
    fixture = {"postgresql": "pg_database", "postgresql-own": "own_pg_database"}.get(
        request.param, "sqlite_database"
    )
    url = request.getfixturevalue(fixture)
    return Settings(database_url=url, environment="test", var_dir=tmp_path)


def _clean(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != Region.__tablename__:
                conn.execute(delete(table))
        conn.execute(delete(Region))
        seed_regions(conn)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    upgrade(engine)
    _clean(engine)
    try:
        yield engine
    finally:
        _clean(engine)
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    factory = make_session_factory(engine)
    with factory() as session:
        yield session


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    from kilnwatch.web.app import create_app

    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


@pytest.fixture
def browser(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The application over https, as a browser: outside development the cookies are
    ``Secure``, so page tests that sign in need https."""
    from kilnwatch.web.app import create_app

    app = create_app(settings)
    with TestClient(app, base_url="https://testserver") as c:
        yield c
    app.state.engine.dispose()
