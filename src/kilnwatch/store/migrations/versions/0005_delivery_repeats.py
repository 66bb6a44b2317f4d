"""ingest: delivery_repeats, the evidence of readings delivered again with the stored value

An exact repeat is not stored as a reading; one row per repeated delivery (meter, ts, batch,
received_at) lets verification find bursts and systematic re-sends
(``verify.timeseries.duplicates``, docs/verification.md).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "delivery_repeats",
        sa.Column("id", _BIGID, nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", _BIGID, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_repeats")),
    )
    op.create_index(
        "ix_delivery_repeats_meter_id_ts", "delivery_repeats", ["meter_id", "ts"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_repeats_meter_id_ts", table_name="delivery_repeats")
    op.drop_table("delivery_repeats")
