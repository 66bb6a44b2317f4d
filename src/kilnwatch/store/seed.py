"""Reference rows every database needs: the packaged regions (Shandong)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from kilnwatch.reference.registry import load_regions
from kilnwatch.store.models import Region


def seed_regions(connection: Connection) -> int:
    """Insert packaged regions that are missing; returns how many were added."""
    have = set(connection.execute(select(Region.code)).scalars())
    rows = [
        {
            "code": r.code,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "level": r.level,
            "parent_code": r.parent_code,
        }
        for r in load_regions()
        if r.code not in have
    ]
    if rows:
        connection.execute(insert(Region), rows)
    return len(rows)
