"""scale: readings partitioned by month of ts on PostgreSQL (a no-op on SQLite)

The table is converted in place of the old one, keeping its rows, columns and primary key
(meter_id, ts, version) — ``ts`` is in the key, as a unique key of a partitioned table
requires, so ``ON CONFLICT`` and ``COPY`` work unchanged. Monthly UTC partitions are created
for every month holding rows, and a ``DEFAULT`` partition takes anything else
(``store/partitions.py``; docs/scaling.md).

Revision ID: 0060
Revises: 0006
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from kilnwatch.store.partitions import DEFAULT_PARTITION, ensure_months, month_start

revision = "0060"
down_revision = "0006"
branch_labels = ("scale",)
depends_on = None

_COLUMNS = """
    meter_id integer NOT NULL,
    ts timestamptz NOT NULL,
    version smallint NOT NULL,
    value double precision NOT NULL,
    flag varchar(2),
    source smallint NOT NULL,
    batch_id bigint,
    received_at timestamptz NOT NULL
"""
_NAMES = "meter_id, ts, version, value, flag, source, batch_id, received_at"
_OLD = "readings_unpartitioned"
_PK = "ALTER TABLE readings ADD CONSTRAINT pk_readings PRIMARY KEY (meter_id, ts, version)"


def _on_postgresql(statements: list[str]) -> bool:
    """Run ``statements`` on PostgreSQL; False (nothing done) on SQLite."""
    if op.get_bind().dialect.name != "postgresql":
        return False
    for statement in statements:
        op.execute(statement)
    return True


def upgrade() -> None:
    renamed = _on_postgresql([
        f"ALTER TABLE readings RENAME TO {_OLD}",
        f"ALTER TABLE {_OLD} RENAME CONSTRAINT pk_readings TO pk_{_OLD}",
        f"CREATE TABLE readings ({_COLUMNS}) PARTITION BY RANGE (ts)",
        _PK,
        f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF readings DEFAULT",
    ])  # fmt: skip
    if not renamed:
        return
    bind = op.get_bind()
    months = bind.execute(
        text(f"SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC') FROM {_OLD}")
    ).scalars()
    ensure_months(bind, [month_start(m.date()) for m in months])
    _on_postgresql([
        f"INSERT INTO readings ({_NAMES}) SELECT {_NAMES} FROM {_OLD}",
        f"DROP TABLE {_OLD}",
    ])  # fmt: skip


def downgrade() -> None:
    _on_postgresql([
        f"CREATE TABLE {_OLD} ({_COLUMNS})",
        f"INSERT INTO {_OLD} ({_NAMES}) SELECT {_NAMES} FROM readings",
        "DROP TABLE readings",  # drops every partition with it
        f"ALTER TABLE {_OLD} RENAME TO readings",
        _PK,
    ])  # fmt: skip
