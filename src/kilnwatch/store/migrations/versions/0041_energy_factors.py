"""programme: refinery energy factors, and the factor and unclassified code of a determination

Revision ID: 0041
Revises: 0040
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    t = "programme_energy_factors"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("energy_factor", sa.Float(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["production_units.id"], name=op.f(f"fk_{t}_unit_id_production_units")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f(f"fk_{t}_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_unit_id"), t, ["unit_id"])
    op.create_index(op.f(f"ix_{t}_enterprise_id"), t, ["enterprise_id"])
    with op.batch_alter_table("programme_determinations") as batch:
        batch.add_column(sa.Column("unclassified_code", sa.String(length=48), nullable=True))
        batch.add_column(sa.Column("energy_factor", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programme_determinations") as batch:
        batch.drop_column("energy_factor")
        batch.drop_column("unclassified_code")
    op.drop_table("programme_energy_factors")
