from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from kilnwatch.store.migrate import current_revision, upgrade
from kilnwatch.store.models import Base
from kilnwatch.store.partitions import include_in_schema_comparison


def test_migrations_match_the_models(engine: Engine) -> None:
    """The migrated schema equals the ORM models on this backend (nothing to autogenerate;
    the partitions of readings are made at run time and skipped, as autogenerate does)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": include_in_schema_comparison}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) is not None
    assert "readings" in inspect(engine).get_table_names()
    pk = inspect(engine).get_pk_constraint("readings")["constrained_columns"]
    assert pk == ["meter_id", "ts", "version"]
