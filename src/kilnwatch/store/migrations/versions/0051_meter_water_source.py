"""emissions: the withdrawal source (取水水源) of a water meter

``meters.water_source`` names a row of ``reference/emissions/water_sources.csv``; empty when
the registry does not say (the withdrawal is then reported as unspecified).

Revision ID: 0051
Revises: 0050
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meters", sa.Column("water_source", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meters") as batch:
        batch.drop_column("water_source")
