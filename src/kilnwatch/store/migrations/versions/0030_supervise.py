"""supervise: inspection rounds, supervision items (rectification, special supervision,
penalties, complaints), their events, evidence and notices, quota allocations and deductions,
users' departments

Revision ID: 0030
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0006"
branch_labels = ("supervise",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inspection_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("tolerance_fraction", sa.Float(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_rounds")),
        sa.UniqueConstraint("code", name=op.f("uq_inspection_rounds_code")),
    )
    op.create_table(
        "supervision_notice_prefs",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("username", "event", name=op.f("pk_supervision_notice_prefs")),
    )
    op.create_table(
        "inspection_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("home_city", sa.String(length=6), nullable=False),
        sa.Column("load", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_city"], ["regions.code"], name=op.f("fk_inspection_groups_home_city_regions")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_inspection_groups_round_id_inspection_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_groups")),
        sa.UniqueConstraint("round_id", "number", name="uq_inspection_groups_number"),
    )
    op.create_index(
        op.f("ix_inspection_groups_round_id"), "inspection_groups", ["round_id"], unique=False
    )
    op.create_table(
        "inspection_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("load", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_inspection_visits_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["inspection_groups.id"],
            name=op.f("fk_inspection_visits_group_id_inspection_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["inspection_rounds.id"],
            name=op.f("fk_inspection_visits_round_id_inspection_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_visits")),
        sa.UniqueConstraint("round_id", "enterprise_id", name="uq_inspection_visits_enterprise"),
    )
    op.create_index(
        op.f("ix_inspection_visits_enterprise_id"),
        "inspection_visits",
        ["enterprise_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_inspection_visits_group_id"), "inspection_visits", ["group_id"], unique=False
    )
    op.create_index(
        op.f("ix_inspection_visits_round_id"), "inspection_visits", ["round_id"], unique=False
    )
    op.create_table(
        "quota_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("quota", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_quota_allocations_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_quota_allocations_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_allocations")),
        sa.UniqueConstraint(
            "region_code", "enterprise_id", "period", "quota", name="uq_quota_allocations_key"
        ),
    )
    op.create_index(
        op.f("ix_quota_allocations_enterprise_id"),
        "quota_allocations",
        ["enterprise_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_quota_allocations_region_code"), "quota_allocations", ["region_code"], unique=False
    )
    op.create_table(
        "supervision_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("source_code", sa.String(length=40), nullable=False),
        sa.Column("source_ref", sa.String(length=100), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", _TS, nullable=True),
        sa.Column("team", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("complainant", sa.String(length=100), nullable=True),
        sa.Column("complainant_contact", sa.String(length=100), nullable=True),
        sa.Column("legal_basis", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_supervision_items_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["supervision_items.id"],
            name=op.f("fk_supervision_items_parent_id_supervision_items"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_supervision_items_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_items")),
        sa.UniqueConstraint(
            "kind", "source_code", "source_ref", name="uq_supervision_items_source"
        ),
    )
    op.create_index(
        op.f("ix_supervision_items_assignee"), "supervision_items", ["assignee"], unique=False
    )
    op.create_index(
        op.f("ix_supervision_items_department"), "supervision_items", ["department"], unique=False
    )
    op.create_index(
        op.f("ix_supervision_items_due_on"), "supervision_items", ["due_on"], unique=False
    )
    op.create_index(
        op.f("ix_supervision_items_enterprise_id"),
        "supervision_items",
        ["enterprise_id"],
        unique=False,
    )
    op.create_index(op.f("ix_supervision_items_kind"), "supervision_items", ["kind"], unique=False)
    op.create_index(
        op.f("ix_supervision_items_parent_id"), "supervision_items", ["parent_id"], unique=False
    )
    op.create_index(
        op.f("ix_supervision_items_region_code"), "supervision_items", ["region_code"], unique=False
    )
    op.create_index(
        op.f("ix_supervision_items_status"), "supervision_items", ["status"], unique=False
    )
    op.create_table(
        "inspection_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("platform_value", sa.Float(), nullable=True),
        sa.Column("checked_value", sa.Float(), nullable=True),
        sa.Column("deviation_fraction", sa.Float(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["inspection_visits.id"],
            name=op.f("fk_inspection_checks_visit_id_inspection_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_checks")),
        sa.UniqueConstraint("visit_id", "item", name="uq_inspection_checks_item"),
    )
    op.create_index(
        op.f("ix_inspection_checks_visit_id"), "inspection_checks", ["visit_id"], unique=False
    )
    op.create_table(
        "quota_deductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("quota", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_quota_deductions_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["supervision_items.id"],
            name=op.f("fk_quota_deductions_item_id_supervision_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_quota_deductions_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_deductions")),
    )
    op.create_index(
        op.f("ix_quota_deductions_enterprise_id"),
        "quota_deductions",
        ["enterprise_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_quota_deductions_item_id"), "quota_deductions", ["item_id"], unique=False
    )
    op.create_index(
        op.f("ix_quota_deductions_region_code"), "quota_deductions", ["region_code"], unique=False
    )
    op.create_table(
        "supervision_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["supervision_items.id"],
            name=op.f("fk_supervision_events_item_id_supervision_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_events")),
    )
    op.create_index(
        op.f("ix_supervision_events_item_id"), "supervision_events", ["item_id"], unique=False
    )
    op.create_table(
        "supervision_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["supervision_items.id"],
            name=op.f("fk_supervision_evidence_item_id_supervision_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_evidence")),
    )
    op.create_index(
        op.f("ix_supervision_evidence_item_id"), "supervision_evidence", ["item_id"], unique=False
    )
    op.create_table(
        "supervision_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("read_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["supervision_items.id"],
            name=op.f("fk_supervision_notices_item_id_supervision_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_notices")),
    )
    op.create_index(
        op.f("ix_supervision_notices_item_id"), "supervision_notices", ["item_id"], unique=False
    )
    op.create_index(
        op.f("ix_supervision_notices_username"), "supervision_notices", ["username"], unique=False
    )
    op.create_table(
        "user_departments",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_departments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_departments")),
    )


def downgrade() -> None:
    op.drop_table("user_departments")
    op.drop_index(op.f("ix_supervision_notices_username"), table_name="supervision_notices")
    op.drop_index(op.f("ix_supervision_notices_item_id"), table_name="supervision_notices")
    op.drop_table("supervision_notices")
    op.drop_index(op.f("ix_supervision_evidence_item_id"), table_name="supervision_evidence")
    op.drop_table("supervision_evidence")
    op.drop_index(op.f("ix_supervision_events_item_id"), table_name="supervision_events")
    op.drop_table("supervision_events")
    op.drop_index(op.f("ix_quota_deductions_region_code"), table_name="quota_deductions")
    op.drop_index(op.f("ix_quota_deductions_item_id"), table_name="quota_deductions")
    op.drop_index(op.f("ix_quota_deductions_enterprise_id"), table_name="quota_deductions")
    op.drop_table("quota_deductions")
    op.drop_index(op.f("ix_inspection_checks_visit_id"), table_name="inspection_checks")
    op.drop_table("inspection_checks")
    op.drop_index(op.f("ix_supervision_items_status"), table_name="supervision_items")
    op.drop_index(op.f("ix_supervision_items_region_code"), table_name="supervision_items")
    op.drop_index(op.f("ix_supervision_items_parent_id"), table_name="supervision_items")
    op.drop_index(op.f("ix_supervision_items_kind"), table_name="supervision_items")
    op.drop_index(op.f("ix_supervision_items_enterprise_id"), table_name="supervision_items")
    op.drop_index(op.f("ix_supervision_items_due_on"), table_name="supervision_items")
    op.drop_index(op.f("ix_supervision_items_department"), table_name="supervision_items")
    op.drop_index(op.f("ix_supervision_items_assignee"), table_name="supervision_items")
    op.drop_table("supervision_items")
    op.drop_index(op.f("ix_quota_allocations_region_code"), table_name="quota_allocations")
    op.drop_index(op.f("ix_quota_allocations_enterprise_id"), table_name="quota_allocations")
    op.drop_table("quota_allocations")
    op.drop_index(op.f("ix_inspection_visits_round_id"), table_name="inspection_visits")
    op.drop_index(op.f("ix_inspection_visits_group_id"), table_name="inspection_visits")
    op.drop_index(op.f("ix_inspection_visits_enterprise_id"), table_name="inspection_visits")
    op.drop_table("inspection_visits")
    op.drop_index(op.f("ix_inspection_groups_round_id"), table_name="inspection_groups")
    op.drop_table("inspection_groups")
    op.drop_table("supervision_notice_prefs")
    op.drop_table("inspection_rounds")
