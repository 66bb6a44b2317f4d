"""Throwaway PostgreSQL databases: create one, give its URL, drop it afterwards.

The one home of this for the tests (the ``pg_database`` and ``own_pg_database`` fixtures of
``conftest``) and for the benchmarks, which put ``tests/`` on their import path for it. A
module of its own (not ``conftest``) so that both can import it by a unique name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_ADMIN_DSN = os.environ.get("KILNWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throwaway_database(
    prefix: str, admin_dsn: str = PG_ADMIN_DSN, *, reuse: str | None = None, keep: bool = False
) -> Iterator[str]:
    """A new database ``<prefix>_<random>`` on the server of ``admin_dsn``; yields its URL and
    drops it (``WITH (FORCE)``) at the end. ``reuse`` names an existing database to yield
    instead of creating one; ``keep`` leaves the database in place at the end."""
    name = reuse or f"{prefix}_{uuid.uuid4().hex[:10]}"
    if not reuse:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_dsn.rsplit('/', 1)[0]}/{name}"
    finally:
        if not keep:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
