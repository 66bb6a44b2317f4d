"""Saved column mappings of existing monitoring systems' exports (docs/mappings.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow


class SourceMapping(Base):
    """One source's mapping: which column of its exports holds which reading field.

    ``spec`` is the JSON form of :class:`kilnwatch.ingest.mappings.MappingSpec`, checked by
    ``parse_spec`` before it is stored.
    """

    __tablename__ = "source_mappings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    """The existing system and plant the exports come from (free text)."""
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
