"""foundation registry identity readings

Revision ID: 0001
Revises:
Create Date: 2026-11-25 14:50:25.287099
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("parent_code", sa.String(length=6), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["regions.code"], name=op.f("fk_regions_parent_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regions_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("industry", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_enterprises_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("uscc", name=op.f("uq_enterprises_uscc")),
    )
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enterprises_industry"), ["industry"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enterprises_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.String(length=10), nullable=False),
        sa.Column("mn", sa.String(length=32), nullable=True),
        sa.Column("secret_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_gateways_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateways")),
        sa.UniqueConstraint("code", name=op.f("uq_gateways_code")),
        sa.UniqueConstraint("mn", name=op.f("uq_gateways_mn")),
    )
    with op.batch_alter_table("gateways", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateways_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "production_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("process", sa.String(length=40), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.Column("capacity_unit", sa.String(length=16), nullable=False),
        sa.Column("commissioned_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("level_variant", sa.String(length=48), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_production_units_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_units")),
        sa.UniqueConstraint("enterprise_id", "code", name="uq_unit_enterprise_code"),
    )
    with op.batch_alter_table("production_units", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_production_units_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("approval_state", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_projects_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("enterprise_id", "code", name="uq_project_enterprise_code"),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_projects_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_users_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_users_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.SmallInteger(), nullable=False),
        sa.Column("source_ref", sa.String(length=300), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_id"], ["gateways.id"], name=op.f("fk_ingest_batches_gateway_id_gateways")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    op.create_table(
        "meters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("parent_meter_id", sa.Integer(), nullable=True),
        sa.Column("measurement", sa.String(length=10), nullable=False),
        sa.Column("unit_of_measure", sa.String(length=16), nullable=False),
        sa.Column("accuracy_class", sa.String(length=16), nullable=True),
        sa.Column("calibrated_on", sa.Date(), nullable=True),
        sa.Column("calibration_due_on", sa.Date(), nullable=True),
        sa.Column("gateway_id", sa.Integer(), nullable=True),
        sa.Column("hj212_code", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_meters_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["gateway_id"], ["gateways.id"], name=op.f("fk_meters_gateway_id_gateways")
        ),
        sa.ForeignKeyConstraint(
            ["parent_meter_id"], ["meters.id"], name=op.f("fk_meters_parent_meter_id_meters")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["production_units.id"], name=op.f("fk_meters_unit_id_production_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meters")),
        sa.UniqueConstraint("code", name=op.f("uq_meters_code")),
    )
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meters_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_meters_gateway_id"), ["gateway_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meters_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "project_units",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_units_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["production_units.id"],
            name=op.f("fk_project_units_unit_id_production_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "unit_id", name=op.f("pk_project_units")),
    )
    op.create_table(
        "readings",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("flag", sa.String(length=2), nullable=True),
        sa.Column("source", sa.SmallInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_readings_meter_id_meters")
        ),
        sa.PrimaryKeyConstraint("meter_id", "ts", "version", name=op.f("pk_readings")),
    )


def downgrade() -> None:

    op.drop_table("readings")
    op.drop_table("project_units")
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meters_unit_id"))
        batch_op.drop_index(batch_op.f("ix_meters_gateway_id"))
        batch_op.drop_index(batch_op.f("ix_meters_enterprise_id"))

    op.drop_table("meters")
    op.drop_table("ingest_batches")
    op.drop_table("users")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_enterprise_id"))

    op.drop_table("projects")
    with op.batch_alter_table("production_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_units_enterprise_id"))

    op.drop_table("production_units")
    with op.batch_alter_table("gateways", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateways_enterprise_id"))

    op.drop_table("gateways")
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprises_region_code"))
        batch_op.drop_index(batch_op.f("ix_enterprises_industry"))

    op.drop_table("enterprises")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regions_parent_code"))

    op.drop_table("regions")
