"""scale: the ingest log's inbox of processed message ids

A writer of the ingest log records each message id (``Nats-Msg-Id``) in the transaction that
stores the message's readings, so that a redelivery of the message (its acknowledgement lost)
is recognised even after a correction of the same reading (docs/scaling.md).

Revision ID: 0062
Revises: 0061
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0062"
down_revision = "0061"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_inbox",
        sa.Column("msg_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("msg_id", name=op.f("pk_log_inbox")),
    )
    op.create_index(op.f("ix_log_inbox_processed_at"), "log_inbox", ["processed_at"])


def downgrade() -> None:
    op.drop_table("log_inbox")
