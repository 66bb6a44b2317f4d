"""Saved column mappings: save (create or replace), find, list, delete. Flushes, never commits.

The spec is checked by the caller (``kilnwatch.ingest.mappings.parse_spec``) before it is
saved: the store keeps what the importer accepts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.store.models import SourceMapping

NAME_CHARS = "letters, digits, '-', '_' and '.'"


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise InputError(f"1 to 64 characters: {NAME_CHARS}", field="name")
    return name


def save_mapping(
    session: Session, name: str, source: str, spec: dict[str, Any], by: str
) -> SourceMapping:
    """Create the mapping ``name`` or replace its source and spec."""
    row = session.scalar(select(SourceMapping).where(SourceMapping.name == _check_name(name)))
    if row is None:
        row = SourceMapping(name=name.strip(), created_by=by)
        session.add(row)
    row.source, row.spec, row.updated_at = source.strip()[:200], spec, datetime.now(UTC)
    session.flush()
    return row


def get_mapping(session: Session, name: str) -> SourceMapping:
    row = session.scalar(select(SourceMapping).where(SourceMapping.name == name))
    if row is None:
        raise NotFoundError(f"no saved mapping {name!r}")
    return row


def list_mappings(session: Session) -> list[SourceMapping]:
    return list(session.scalars(select(SourceMapping).order_by(SourceMapping.name)))


def delete_mapping(session: Session, name: str) -> None:
    session.delete(get_mapping(session, name))
    session.flush()


def mark_applied(session: Session, row: SourceMapping) -> None:
    row.last_applied_at = datetime.now(UTC)
    session.flush()
