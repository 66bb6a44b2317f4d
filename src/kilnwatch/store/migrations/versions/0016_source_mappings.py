"""files: saved column mappings of existing systems' exports

Revision ID: 0016
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0006"
branch_labels = ("files",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "source_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("last_applied_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_mappings")),
        sa.UniqueConstraint("name", name=op.f("uq_source_mappings_name")),
    )


def downgrade() -> None:
    op.drop_table("source_mappings")
