"""reports: report schedules, the report archive and e-mail deliveries

Revision ID: 0020
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0006"
branch_labels = ("reports",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("report", sa.String(length=40), nullable=False),
        sa.Column("city", sa.String(length=6), nullable=True),
        sa.Column("enterprise_uscc", sa.String(length=18), nullable=True),
        sa.Column("rule", sa.String(length=8), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("day_of_month", sa.Integer(), nullable=False),
        sa.Column("time_of_day", sa.String(length=5), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_schedules")),
    )
    op.create_index(op.f("ix_report_schedules_owner"), "report_schedules", ["owner"])
    op.create_table(
        "report_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("due_at", _TS, nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("report", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("path", sa.String(length=400), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("generated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["report_schedules.id"],
            name=op.f("fk_report_archive_schedule_id_report_schedules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_archive")),
        sa.UniqueConstraint("schedule_id", "due_at", name="uq_report_archive_due"),
    )  # fmt: skip
    op.create_index(op.f("ix_report_archive_schedule_id"), "report_archive", ["schedule_id"])
    op.create_index(op.f("ix_report_archive_created_by"), "report_archive", ["created_by"])
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("archive_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("last_attempt_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("log", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["archive_id"], ["report_archive.id"],
            name=op.f("fk_report_deliveries_archive_id_report_archive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_deliveries")),
        sa.UniqueConstraint("archive_id", "recipient", name="uq_report_delivery_recipient"),
    )  # fmt: skip
    op.create_index(op.f("ix_report_deliveries_archive_id"), "report_deliveries", ["archive_id"])
    op.create_index(op.f("ix_report_deliveries_status"), "report_deliveries", ["status"])


def downgrade() -> None:
    op.drop_table("report_deliveries")
    op.drop_table("report_archive")
    op.drop_table("report_schedules")
