"""security: room for the sealed TOTP secret (AES-256-GCM, key outside the database)

A sealed value (``kw1$<key id>$<base64url(nonce, ciphertext, tag)>``, ``kilnwatch/keyfile.py``)
is 93 characters; the column held the 32-character base32 secret. Plaintext secrets of earlier
versions are sealed after the upgrade by ``kilnwatch db upgrade`` (when the key file exists),
``kilnwatch user totp-key create`` or at their next use: the key is not known to a migration.

Revision ID: 0058
Revises: 0057
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0058"
down_revision = "0057"
branch_labels = None
depends_on = None


def _secret_length(old: int, new: int) -> None:
    with op.batch_alter_table("user_totp") as batch:
        batch.alter_column("secret", existing_type=sa.String(length=old),
                           type_=sa.String(length=new), existing_nullable=False)  # fmt: skip


def upgrade() -> None:
    _secret_length(64, 255)


def downgrade() -> None:
    _secret_length(255, 64)
