"""programme: equipment attributes of production units, exit grounds by kind of standard

Revision ID: 0042
Revises: 0041
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None

_TABLE = "programme_exit_grounds"
_REFS = {"unit_id": "production_units", "enterprise_id": "enterprises"}


def upgrade() -> None:
    with op.batch_alter_table("production_units") as batch:
        batch.add_column(sa.Column("equipment", sa.JSON(), nullable=True))
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in _REFS),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("standard", sa.String(length=200), nullable=False),
        sa.Column("finding", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("determined_by", sa.String(length=64), nullable=False),
        sa.Column("determined_on", sa.Date(), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=True),
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


def downgrade() -> None:
    op.drop_table(_TABLE)
    with op.batch_alter_table("production_units") as batch:
        batch.drop_column("equipment")
