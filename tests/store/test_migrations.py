from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from kilnwatch.store.migrate import current_revision, upgrade
from kilnwatch.store.models import Base


def test_migrations_match_the_models(engine: Engine) -> None:
    """The migrated schema equals the ORM models on this backend (nothing to autogenerate)."""
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) is not None
    assert "readings" in inspect(engine).get_table_names()
    pk = inspect(engine).get_pk_constraint("readings")["constrained_columns"]
    assert pk == ["meter_id", "ts", "version"]
