"""scale: the hourly rollup of monitored analysers (emission_hours), filled from the readings

One row per CEMS or wastewater analyser and clock hour with what the HJ 75-2017 hourly rules
need (readings, valid and stop-flagged ones, their sums, the spacings within the hour), so
that the emissions pages, reports and API read it instead of the raw readings
(``store/rollups/emission_hours.py``, docs/scaling.md). The rows of the readings already
stored are computed here.

Revision ID: 0063
Revises: 0062
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from kilnwatch.store.rollups.emission_hours import rebuild_emission_hours

revision = "0063"
down_revision = "0062"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emission_hours",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("valid", sa.Integer(), nullable=False),
        sa.Column("stopped", sa.Integer(), nullable=False),
        sa.Column("valid_sum", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("steps", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_emission_hours_meter_id_meters")
        ),
        sa.PrimaryKeyConstraint("meter_id", "period_start", name=op.f("pk_emission_hours")),
    )
    session = Session(bind=op.get_bind())
    try:
        rebuild_emission_hours(session)
        session.flush()
    finally:
        session.close()


def downgrade() -> None:
    op.drop_table("emission_hours")
