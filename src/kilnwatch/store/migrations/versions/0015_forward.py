"""forward: HJ 212 forwarding targets, their devices and meters, the durable per-target queue

``forward_frames`` is the queue (a restart loses nothing); ``forward_items`` marks the readings
queued per target so that none is queued twice. First revision of the ``collect`` branch.

Revision ID: 0015
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0006"
branch_labels = ("collect",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forward_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("protocol", sa.String(length=10), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("edition", sa.String(length=4), nullable=False),
        sa.Column("st", sa.String(length=2), nullable=False),
        sa.Column("password", sa.String(length=64), nullable=False),
        sa.Column("ack_timeout_s", sa.Float(), nullable=False),
        sa.Column("max_attempts", sa.SmallInteger(), nullable=False),
        sa.Column("backoff_initial_s", sa.Float(), nullable=False),
        sa.Column("backoff_max_s", sa.Float(), nullable=False),
        sa.Column("late_window_s", sa.Integer(), nullable=False),
        sa.Column("window_frames", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forward_targets")),
        sa.UniqueConstraint("name", name=op.f("uq_forward_targets_name")),
    )
    op.create_table(
        "forward_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column("mn", sa.String(length=32), nullable=False),
        sa.Column("password", sa.String(length=64), nullable=True),
        sa.Column("pollutants", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["gateway_id"], ["gateways.id"], name=op.f("fk_forward_devices_gateway_id_gateways")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["forward_targets.id"],
            name=op.f("fk_forward_devices_target_id_forward_targets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forward_devices")),
        sa.UniqueConstraint(
            "target_id", "gateway_id", name="uq_forward_devices_target_id_gateway_id"
        ),
        sa.UniqueConstraint("target_id", "mn", name="uq_forward_devices_target_id_mn"),
    )
    with op.batch_alter_table("forward_devices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forward_devices_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "forward_frames",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("qn", sa.String(length=20), nullable=False),
        sa.Column("data_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cp", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["forward_devices.id"],
            name=op.f("fk_forward_frames_device_id_forward_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["forward_targets.id"],
            name=op.f("fk_forward_frames_target_id_forward_targets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forward_frames")),
    )
    with op.batch_alter_table("forward_frames", schema=None) as batch_op:
        batch_op.create_index(
            "ix_forward_frames_target_id_state_next",
            ["target_id", "state", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "forward_meters",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("factor_code", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["forward_devices.id"],
            name=op.f("fk_forward_meters_device_id_forward_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_forward_meters_meter_id_meters")
        ),
        sa.PrimaryKeyConstraint("device_id", "meter_id", name=op.f("pk_forward_meters")),
    )
    op.create_table(
        "forward_items",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
        sa.Column("frame_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["frame_id"],
            ["forward_frames.id"],
            name=op.f("fk_forward_items_frame_id_forward_frames"),
        ),
        sa.PrimaryKeyConstraint(
            "target_id", "meter_id", "ts", "version", name=op.f("pk_forward_items")
        ),
    )
    with op.batch_alter_table("forward_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forward_items_frame_id"), ["frame_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("forward_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forward_items_frame_id"))

    op.drop_table("forward_items")
    op.drop_table("forward_meters")
    with op.batch_alter_table("forward_frames", schema=None) as batch_op:
        batch_op.drop_index("ix_forward_frames_target_id_state_next")

    op.drop_table("forward_frames")
    with op.batch_alter_table("forward_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forward_devices_target_id"))

    op.drop_table("forward_devices")
    op.drop_table("forward_targets")
