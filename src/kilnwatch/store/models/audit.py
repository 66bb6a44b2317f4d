"""The audit trail (可复核): an append-only, hash-chained log of every change to the records
people keep (registry, findings and their workflow, plans, users, schedules...).

Each entry holds who changed which row of which table, how (insert, update, delete) and the
values (old and new for an update), with the SHA-256 of the previous entry's hash and its own
canonical text. Editing, inserting or deleting an entry breaks the chain from that entry on;
``kilnwatch audit verify`` names the first break (``store/audit.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import Base, UTCDateTime


class AuditEntry(Base):
    """One change to one row. ``seq`` is assigned by the writer (1, 2, 3, ... without gaps)."""

    __tablename__ = "audit_log"
    __audited__ = False

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(8))
    table_name: Mapped[str] = mapped_column(String(64), index=True)
    row_key: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
