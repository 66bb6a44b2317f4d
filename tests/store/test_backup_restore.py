"""Backups (docs/operations.md): a PostgreSQL dump restored into a new database holds the same
records, and its audit chain verifies up to the head kept at backup time."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kilnwatch.config import Settings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.audit import check_chain
from kilnwatch.store.engine import make_engine, make_session_factory, unit_of_work
from kilnwatch.store.migrate import upgrade
from kilnwatch.store.models import AuditEntry, Enterprise, Meter
from pg_support import throwaway_database

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"


def _summary(url: str) -> tuple[int, int, int, int, str]:
    engine = make_engine(Settings(database_url=url, environment="test"))
    try:
        with make_session_factory(engine)() as s:
            counts = [
                s.scalar(select(func.count()).select_from(m)) or 0
                for m in (Enterprise, Meter, AuditEntry)
            ]
            check = check_chain(s)
            assert check.intact, check.broken
            return (*counts, check.head_seq, check.head_hash)  # type: ignore[return-value]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_pg_dump_and_restore_keep_records_and_the_audit_chain(
    own_pg_database: str, tmp_path: Path
) -> None:
    assert shutil.which("pg_dump") and shutil.which("pg_restore"), "PostgreSQL client tools"
    # its own database: on the session's shared one, enterprises another test left decided
    # whether this one imported (and logged) anything
    engine = make_engine(Settings(database_url=own_pg_database, environment="test"))
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as s:
        import_registry(s, REGISTRY)
    engine.dispose()
    before = _summary(own_pg_database)
    assert before[0] >= 3 and before[2] > 0

    dump = tmp_path / "kilnwatch.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "--no-owner", "-f", str(dump), own_pg_database], check=True, timeout=120
    )
    with throwaway_database("kilnwatch_restore") as restored:
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", restored, str(dump)], check=True, timeout=120
        )
        assert _summary(restored) == before  # same records, same chain head
