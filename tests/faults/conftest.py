"""One private PostgreSQL cluster for the fault tests that restart it (initdb and the
migrations once, not per test: each test uses meters of its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fault_servers import PrivatePostgres, private_postgres

from kilnwatch.config import Settings
from kilnwatch.store.engine import make_engine
from kilnwatch.store.migrate import upgrade


@pytest.fixture(scope="session")
def _shared_postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as pg:
        engine = make_engine(Settings(database_url=pg.url, environment="test"))
        upgrade(engine)
        engine.dispose()
        yield pg


@pytest.fixture
def fault_postgres(_shared_postgres: PrivatePostgres) -> PrivatePostgres:
    """The private cluster, migrated and running (started again if a failed test left it
    stopped); the test may stop and start it."""
    if not _shared_postgres.running():
        _shared_postgres.start()
    return _shared_postgres
