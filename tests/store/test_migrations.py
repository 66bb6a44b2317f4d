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


def test_upgrade_at_the_heads_does_not_run_alembic(engine: Engine, tmp_path, monkeypatch) -> None:
    """A migrated database is recognised by one query; a new database is migrated."""
    import alembic.command
    from sqlalchemy import create_engine

    from kilnwatch.store.migrate import script_heads, stored_heads

    upgrade(engine)
    assert stored_heads(engine) == script_heads()
    real = alembic.command.upgrade
    calls: list[str] = []

    def counted(cfg, revision):  # type: ignore[no-untyped-def]
        calls.append(revision)
        real(cfg, revision)

    monkeypatch.setattr(alembic.command, "upgrade", counted)
    upgrade(engine)
    assert calls == []
    new = create_engine(f"sqlite:///{tmp_path / 'new.sqlite'}")
    assert stored_heads(new) is None
    upgrade(new)
    assert calls == ["heads"]
    assert stored_heads(new) == script_heads()
    new.dispose()
