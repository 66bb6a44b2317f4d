"""metering: census points (required instruments) and calibration certificates

Revision ID: 0045
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0006"
branch_labels = ("metering",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metering_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("meter_id", sa.Integer(), nullable=True),
        sa.Column("accuracy_variant", sa.String(length=24), nullable=True),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"],
            name=op.f("fk_metering_points_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["production_units.id"],
            name=op.f("fk_metering_points_unit_id_production_units"),
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_metering_points_meter_id_meters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metering_points")),
        sa.UniqueConstraint("enterprise_id", "code", name="uq_metering_points_enterprise_code"),
        sa.UniqueConstraint("meter_id", name=op.f("uq_metering_points_meter_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_metering_points_enterprise_id"), "metering_points", ["enterprise_id"])
    op.create_table(
        "meter_calibrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.String(length=64), nullable=False),
        sa.Column("calibrated_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("result", sa.String(length=12), nullable=False),
        sa.Column("certificate_file", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_meter_calibrations_meter_id_meters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_calibrations")),
        sa.UniqueConstraint("meter_id", "certificate_no", name="uq_meter_calibrations_meter_cert"),
    )
    op.create_index(op.f("ix_meter_calibrations_meter_id"), "meter_calibrations", ["meter_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_meter_calibrations_meter_id"), table_name="meter_calibrations")
    op.drop_table("meter_calibrations")
    op.drop_index(op.f("ix_metering_points_enterprise_id"), table_name="metering_points")
    op.drop_table("metering_points")
