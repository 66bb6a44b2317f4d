"""Run Alembic migrations programmatically (``kilnwatch db upgrade``) and seed reference rows.

Every command checks that the schema is at the heads before it works. That check is cheap:
the heads are read from the migration files' ``revision``/``down_revision`` lines (parsed,
not imported) and compared with ``alembic_version``; Alembic itself (its import, and the
import of every migration script) runs only when something is to be upgraded.
"""

from __future__ import annotations

import ast
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from kilnwatch.store.partitions import maintain
from kilnwatch.store.seed import seed_regions

if TYPE_CHECKING:
    from alembic.config import Config


def migrations_dir() -> Path:
    """The Alembic script directory of the package."""
    return Path(str(resources.files("kilnwatch.store") / "migrations"))


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return cfg


def _revisions(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list):
        return tuple(str(v) for v in value)
    return ()


def _revision_links(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """``(revision, revisions it builds on)`` of a migration script (``down_revision`` and
    ``depends_on``), from its module-level constants."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in (
                "revision", "down_revision", "depends_on"
            ):  # fmt: skip
                values[target.id] = ast.literal_eval(node.value)
    revision = values.get("revision")
    if not isinstance(revision, str):
        return None
    return revision, _revisions(values.get("down_revision")) + _revisions(values.get("depends_on"))


@cache
def script_heads() -> frozenset[str]:
    """What ``alembic_version`` holds once every migration is applied: the revisions no
    other one builds on (by ``down_revision`` or ``depends_on``), read from the scripts' text
    (tested against a database Alembic migrated)."""
    links = [
        link
        for path in sorted((migrations_dir() / "versions").glob("*.py"))
        if (link := _revision_links(path)) is not None
    ]
    below = {base for _, bases in links for base in bases}
    return frozenset(rev for rev, _ in links if rev not in below)


def stored_heads(engine: Engine) -> frozenset[str] | None:
    """The revisions in ``alembic_version`` (None: no such table, a new database)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return frozenset(rows)
    except DBAPIError:
        return None


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision``, seed the packaged regions and create the readings
    partitions due (PostgreSQL: this month and the next ones, ``store/partitions.py``);
    idempotent.

    A database already at the heads costs one query (no Alembic; on PostgreSQL two more for
    the partitions); else Alembic upgrades.
    """
    if revision != "heads" or stored_heads(engine) != script_heads():
        from alembic import command

        cfg = alembic_config(engine)
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    with engine.begin() as connection:
        seed_regions(connection)
        maintain(connection, move_default=False)


def current_revision(engine: Engine) -> str | None:
    """The applied revision(s), comma-separated (capabilities may add independent branches)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None
