"""web: index day and month rollups by period (province-wide page figures)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHERE = sa.text("grain IN ('day', 'month')")


def upgrade() -> None:
    op.create_index(
        "ix_rollups_coarse_period",
        "rollups",
        ["grain", "period_start"],
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_rollups_coarse_period", table_name="rollups")
