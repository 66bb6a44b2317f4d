"""scale: a BRIN index on readings.ts on PostgreSQL (a no-op on SQLite)

Chosen by measurement (docs/scaling.md, "Index on ts"): for a read of every meter over part of
a month it is as fast as a B-tree at a few hundredths of a percent of the table's size (the
B-tree on ts was 8.5 % of it); per-meter queries keep the primary key. A partitioned index:
every partition, attached later too, gets its own.

Revision ID: 0061
Revises: 0060
"""

from __future__ import annotations

from alembic import op

from kilnwatch.store.partitions import TS_BRIN_INDEX

revision = "0061"
down_revision = "0060"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {TS_BRIN_INDEX} ON readings USING brin (ts)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {TS_BRIN_INDEX}")
