"""verify: external sources, findings, credibility scores, verification runs

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("verify",)
depends_on = None

TABLES = (
    "credibility_scores",
    "findings",
    "market_prices",
    "grid_electricity",
    "logistics_waybills",
    "tax_invoices",
    "statistical_reports",
    "verification_runs",
)


def upgrade() -> None:
    op.create_table(
        "verification_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("periods", sa.String(length=200), nullable=False),
        sa.Column("enterprises", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("findings_new", sa.Integer(), nullable=False),
        sa.Column("findings_updated", sa.Integer(), nullable=False),
        sa.Column("findings_closed", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_runs")),
    )
    op.create_table(
        "statistical_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_statistical_reports_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statistical_reports")),
        sa.UniqueConstraint("enterprise_id", "period", "item", name="uq_statreport_key"),
    )
    with op.batch_alter_table("statistical_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_statistical_reports_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_statistical_reports_period"), ["period"], unique=False)

    op.create_table(
        "tax_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_no", sa.String(length=64), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("amount_cny", sa.Float(), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_tax_invoices_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_invoices")),
        sa.UniqueConstraint("invoice_no", name=op.f("uq_tax_invoices_invoice_no")),
    )
    with op.batch_alter_table("tax_invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tax_invoices_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tax_invoices_issued_on"), ["issued_on"], unique=False)

    op.create_table(
        "logistics_waybills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("waybill_no", sa.String(length=64), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("quantity_t", sa.Float(), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_logistics_waybills_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_waybills")),
        sa.UniqueConstraint("waybill_no", name=op.f("uq_logistics_waybills_waybill_no")),
    )
    with op.batch_alter_table("logistics_waybills", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_waybills_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_waybills_shipped_on"), ["shipped_on"], unique=False
        )

    op.create_table(
        "grid_electricity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("electricity_kwh", sa.Float(), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_grid_electricity_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_electricity")),
        sa.UniqueConstraint("enterprise_id", "period", name="uq_grid_key"),
    )
    with op.batch_alter_table("grid_electricity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grid_electricity_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_grid_electricity_period"), ["period"], unique=False)

    op.create_table(
        "market_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("price_cny_per_unit", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("source_file", sa.String(length=300), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_prices")),
        sa.UniqueConstraint("period", "item", name="uq_price_key"),
    )
    with op.batch_alter_table("market_prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_prices_period"), ["period"], unique=False)

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rule_code", sa.String(length=100), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("meter_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("magnitude_fraction", sa.Float(), nullable=True),
        sa.Column("magnitude_tce", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_findings_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_findings_meter_id_meters")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["verification_runs.id"], name=op.f("fk_findings_run_id_verification_runs")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["production_units.id"], name=op.f("fk_findings_unit_id_production_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_findings_fingerprint")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_findings_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_findings_meter_id"), ["meter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_rule_code"), ["rule_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_status"), ["status"], unique=False)

    op.create_table(
        "credibility_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("open_findings", sa.Integer(), nullable=False),
        sa.Column("deductions", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_credibility_scores_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credibility_scores")),
        sa.UniqueConstraint("enterprise_id", "period", name="uq_credibility_key"),
    )
    with op.batch_alter_table("credibility_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credibility_scores_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_credibility_scores_period"), ["period"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
