"""projects: "两高" project stages, approvals, replacement and substitution ledgers, dispatch
entries, on-site visits, production caps, resident supervisors, weekly joint reports

Revision ID: 0035
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0006"
branch_labels = ("projects",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "weekly_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_code", sa.String(length=6), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("generated_at", _TS, nullable=False),
        sa.Column("generated_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", _TS, nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_reports")),
        sa.UniqueConstraint("city_code", "week", name="uq_weekly_report_city_week"),
    )
    with op.batch_alter_table("weekly_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_weekly_reports_city_code"), ["city_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_weekly_reports_week"), ["week"], unique=False)

    op.create_table(
        "weekly_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("signed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["weekly_reports.id"],
            name=op.f("fk_weekly_signatures_report_id_weekly_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_signatures")),
        sa.UniqueConstraint("report_id", "department", name="uq_weekly_signature_department"),
    )
    with op.batch_alter_table("weekly_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_weekly_signatures_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "production_caps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=24), nullable=False),
        sa.Column("product", sa.String(length=40), nullable=False),
        sa.Column("output_t", sa.Float(), nullable=True),
        sa.Column("energy_tce", sa.Float(), nullable=True),
        sa.Column("coal_t", sa.Float(), nullable=True),
        sa.Column("document_no", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_production_caps_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_caps")),
        sa.UniqueConstraint("enterprise_id", "period", name="uq_production_cap_period"),
    )
    with op.batch_alter_table("production_caps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_production_caps_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "resident_supervisors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("assigned_by_region", sa.String(length=6), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_resident_supervisors_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_supervisors")),
    )
    with op.batch_alter_table("resident_supervisors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_supervisors_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "capacity_replacements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.Column("capacity_unit", sa.String(length=16), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("document_no", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_capacity_replacements_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_replacements")),
    )
    with op.batch_alter_table("capacity_replacements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_capacity_replacements_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "coal_substitutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("coal_t_per_year", sa.Float(), nullable=False),
        sa.Column("achieved_on", sa.Date(), nullable=True),
        sa.Column("document_no", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_coal_substitutions_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coal_substitutions")),
    )
    with op.batch_alter_table("coal_substitutions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coal_substitutions_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "dispatch_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit_of_measure", sa.String(length=16), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_dispatch_entries_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_entries")),
        sa.UniqueConstraint("project_id", "day", "carrier", name="uq_dispatch_entry_day_carrier"),
    )
    with op.batch_alter_table("dispatch_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_entries_day"), ["day"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dispatch_entries_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "project_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("document_no", sa.String(length=120), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_approvals_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_approvals")),
        sa.UniqueConstraint("project_id", "kind", name="uq_project_approval_kind"),
    )
    with op.batch_alter_table("project_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_approvals_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "project_stage_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=24), nullable=False),
        sa.Column("to_stage", sa.String(length=24), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("blockers", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_stage_events_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_stage_events")),
    )
    with op.batch_alter_table("project_stage_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_stage_events_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "resident_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("days_on_site", sa.Integer(), nullable=False),
        sa.Column("observed_output_t", sa.Float(), nullable=True),
        sa.Column("production_normal", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("written_by", sa.String(length=64), nullable=False),
        sa.Column("written_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["resident_supervisors.id"],
            name=op.f("fk_resident_logs_supervisor_id_resident_supervisors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_logs")),
        sa.UniqueConstraint("supervisor_id", "week", name="uq_resident_log_week"),
    )
    with op.batch_alter_table("resident_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_logs_supervisor_id"), ["supervisor_id"], unique=False
        )

    op.create_table(
        "site_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("inspectors", sa.String(length=200), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_site_visits_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_visits")),
        sa.UniqueConstraint("project_id", "month", name="uq_site_visit_month"),
    )
    with op.batch_alter_table("site_visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_visits_project_id"), ["project_id"], unique=False)

    op.create_table(
        "site_follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rectification_ref", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["site_visits.id"], name=op.f("fk_site_follow_ups_visit_id_site_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_follow_ups")),
    )
    with op.batch_alter_table("site_follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_follow_ups_visit_id"), ["visit_id"], unique=False)

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("capacity_unit", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("replacement_kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("replacement_ratio", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("coal_t_per_year", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("stage_changed_at", _TS, nullable=True))
    # the first registry format's stage names, read as today's (kilnwatch.domain.projects)
    op.execute("UPDATE projects SET stage = 'planned' WHERE stage = 'new'")
    op.execute("UPDATE projects SET stage = 'operating' WHERE stage = 'existing'")


def downgrade() -> None:
    op.execute("UPDATE projects SET stage = 'new' WHERE stage IN ('planned', 'approved')")
    op.execute("UPDATE projects SET stage = 'existing' WHERE stage IN ('operating', 'stopped')")
    op.execute("UPDATE projects SET stage = 'under_construction' WHERE stage = 'trial_operation'")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("stage_changed_at")
        batch_op.drop_column("coal_t_per_year")
        batch_op.drop_column("replacement_ratio")
        batch_op.drop_column("replacement_kind")
        batch_op.drop_column("capacity_unit")
        batch_op.drop_column("capacity")

    with op.batch_alter_table("site_follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_follow_ups_visit_id"))

    op.drop_table("site_follow_ups")
    with op.batch_alter_table("site_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_visits_project_id"))

    op.drop_table("site_visits")
    with op.batch_alter_table("resident_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_logs_supervisor_id"))

    op.drop_table("resident_logs")
    with op.batch_alter_table("project_stage_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_stage_events_project_id"))

    op.drop_table("project_stage_events")
    with op.batch_alter_table("project_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_approvals_project_id"))

    op.drop_table("project_approvals")
    with op.batch_alter_table("dispatch_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatch_entries_project_id"))
        batch_op.drop_index(batch_op.f("ix_dispatch_entries_day"))

    op.drop_table("dispatch_entries")
    with op.batch_alter_table("coal_substitutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coal_substitutions_project_id"))

    op.drop_table("coal_substitutions")
    with op.batch_alter_table("capacity_replacements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_replacements_project_id"))

    op.drop_table("capacity_replacements")
    with op.batch_alter_table("resident_supervisors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_supervisors_enterprise_id"))

    op.drop_table("resident_supervisors")
    with op.batch_alter_table("production_caps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_caps_enterprise_id"))

    op.drop_table("production_caps")
    with op.batch_alter_table("weekly_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weekly_signatures_report_id"))

    op.drop_table("weekly_signatures")
    with op.batch_alter_table("weekly_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weekly_reports_week"))
        batch_op.drop_index(batch_op.f("ix_weekly_reports_city_code"))

    op.drop_table("weekly_reports")
