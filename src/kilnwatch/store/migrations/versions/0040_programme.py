"""programme: level determinations, retrofit plans and milestones, measured savings

Revision ID: 0040
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0006"
branch_labels = ("programme",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    t = "programme_determinations"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("level_field", sa.String(length=48), nullable=False),
        sa.Column("computed_intensity", sa.Float(), nullable=True),
        sa.Column("intensity_unit", sa.String(length=32), nullable=True),
        sa.Column("computed_class", sa.String(length=24), nullable=True),
        sa.Column("computed_table", sa.String(length=64), nullable=True),
        sa.Column("computed_table_edition", sa.Integer(), nullable=True),
        sa.Column("computed_notes", sa.Text(), nullable=False),
        sa.Column("declared_class", sa.String(length=24), nullable=True),
        sa.Column("declared_intensity", sa.Float(), nullable=True),
        sa.Column("declared_evidence", sa.Text(), nullable=True),
        sa.Column("declared_by", sa.String(length=64), nullable=True),
        sa.Column("declared_at", _TS, nullable=True),
        sa.Column("final_class", sa.String(length=24), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("decision_evidence", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk(t, "unit_id", "production_units"),
        _fk(t, "enterprise_id", "enterprises"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_unit_id"), t, ["unit_id"])
    op.create_index(op.f(f"ix_{t}_enterprise_id"), t, ["enterprise_id"])
    t = "programme_plans"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("investment_cny", sa.Float(), nullable=False),
        sa.Column("expected_saving_tce_per_year", sa.Float(), nullable=False),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        _fk(t, "enterprise_id", "enterprises"),
        _fk(t, "unit_id", "production_units"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_enterprise_id"), t, ["enterprise_id"])
    op.create_index(op.f(f"ix_{t}_unit_id"), t, ["unit_id"])
    t = "programme_milestones"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _fk(t, "plan_id", "programme_plans"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_plan_id"), t, ["plan_id"])
    t = "programme_savings"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("baseline_first", sa.Date(), nullable=False),
        sa.Column("baseline_last", sa.Date(), nullable=False),
        sa.Column("reporting_first", sa.Date(), nullable=False),
        sa.Column("reporting_last", sa.Date(), nullable=False),
        sa.Column("savings_tce", sa.Float(), nullable=False),
        sa.Column("savings_fraction", sa.Float(), nullable=False),
        sa.Column("uncertainty_fraction", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("significant", sa.Boolean(), nullable=False),
        sa.Column("cv_rmse", sa.Float(), nullable=False),
        sa.Column("reporting_class", sa.String(length=24), nullable=True),
        sa.Column("reporting_table", sa.String(length=64), nullable=True),
        sa.Column("adjustments", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk(t, "unit_id", "production_units"),
        _fk(t, "enterprise_id", "enterprises"),
        _fk(t, "plan_id", "programme_plans"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    for column in ("unit_id", "enterprise_id", "plan_id"):
        op.create_index(op.f(f"ix_{t}_{column}"), t, [column])


def downgrade() -> None:
    op.drop_table("programme_savings")
    op.drop_table("programme_milestones")
    op.drop_table("programme_plans")
    op.drop_table("programme_determinations")
