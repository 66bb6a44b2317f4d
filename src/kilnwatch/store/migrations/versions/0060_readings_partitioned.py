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


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE readings RENAME TO {_OLD}")
    op.execute(f"ALTER TABLE {_OLD} RENAME CONSTRAINT pk_readings TO pk_{_OLD}")
    op.execute(f"CREATE TABLE readings ({_COLUMNS}) PARTITION BY RANGE (ts)")
    op.execute(
        "ALTER TABLE readings ADD CONSTRAINT pk_readings PRIMARY KEY (meter_id, ts, version)"
    )
    op.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF readings DEFAULT")
    months = bind.execute(
        text(f"SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC') FROM {_OLD}")
    ).scalars()
    ensure_months(bind, [month_start(m.date()) for m in months])
    op.execute(f"INSERT INTO readings ({_NAMES}) SELECT {_NAMES} FROM {_OLD}")
    op.execute(f"DROP TABLE {_OLD}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"CREATE TABLE {_OLD} ({_COLUMNS})")
    op.execute(f"INSERT INTO {_OLD} ({_NAMES}) SELECT {_NAMES} FROM readings")
    op.execute("DROP TABLE readings")  # drops every partition with it
    op.execute(f"ALTER TABLE {_OLD} RENAME TO readings")
    op.execute(
        "ALTER TABLE readings ADD CONSTRAINT pk_readings PRIMARY KEY (meter_id, ts, version)"
    )
