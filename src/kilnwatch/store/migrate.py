"""Run Alembic migrations programmatically (``kilnwatch db upgrade``) and seed reference rows."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from kilnwatch.store.partitions import maintain
from kilnwatch.store.seed import seed_regions


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("kilnwatch.store") / "migrations"))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision``, seed the packaged regions and create the readings
    partitions due (PostgreSQL: this month and the next ones, months held by DEFAULT;
    ``store/partitions.py``); idempotent."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    with engine.begin() as connection:
        seed_regions(connection)
        maintain(connection)


def current_revision(engine: Engine) -> str | None:
    """The applied revision(s), comma-separated (capabilities may add independent branches)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None
