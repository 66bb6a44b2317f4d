"""emissions: pollutant discharge permits (permitted concentration and annual quantity)

First revision of the ``emissions`` branch.

Revision ID: 0050
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0006"
branch_labels = ("emissions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emission_permits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("permit_no", sa.String(length=40), nullable=False),
        sa.Column("pollutant", sa.String(length=16), nullable=False),
        sa.Column("concentration_mg_m3", sa.Float(), nullable=True),
        sa.Column("o2_ref_pct", sa.Float(), nullable=True),
        sa.Column("annual_t", sa.Float(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["production_units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id", "unit_id", "pollutant", "valid_from"),
    )
    op.create_index("ix_emission_permits_enterprise_id", "emission_permits", ["enterprise_id"])
    op.create_index("ix_emission_permits_unit_id", "emission_permits", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_emission_permits_unit_id", table_name="emission_permits")
    op.drop_index("ix_emission_permits_enterprise_id", table_name="emission_permits")
    op.drop_table("emission_permits")
