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

_TABLE = "programme_energy_factors"
_REFS = {"unit_id": "production_units", "enterprise_id": "enterprises"}


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in _REFS),
        sa.Column("energy_factor", sa.Float(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        *(
            sa.ForeignKeyConstraint([c], [f"{t}.id"], name=op.f(f"fk_{_TABLE}_{c}_{t}"))
            for c, t in _REFS.items()
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{_TABLE}")),
    )
    for column in _REFS:
        op.create_index(op.f(f"ix_{_TABLE}_{column}"), _TABLE, [column])
    with op.batch_alter_table("programme_determinations") as batch:
        batch.add_column(sa.Column("unclassified_code", sa.String(length=48), nullable=True))
        batch.add_column(sa.Column("energy_factor", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programme_determinations") as batch:
        batch.drop_column("energy_factor")
        batch.drop_column("unclassified_code")
    op.drop_table(_TABLE)
