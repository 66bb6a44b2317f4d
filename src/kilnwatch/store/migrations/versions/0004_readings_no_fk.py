"""readings: drop the foreign key readings.meter_id -> meters.id

Integrity is kept without the per-row check: every reading's meter is looked up by the ingest
validation before storage, and meters are never deleted (docs/architecture.md, Storage). The
foreign-key trigger was most of the database's load time of a bulk import (docs/ingestion.md).

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

_FK = "fk_readings_meter_id_meters"


def upgrade() -> None:
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_constraint(_FK, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.create_foreign_key(_FK, "meters", ["meter_id"], ["id"])
