"""The level tables the programme judges against: the packaged NDRC and GB tables, plus the
province's own tables when ``Settings.provincial_levels_dir`` names a directory of them."""

from __future__ import annotations

from kilnwatch.config import Settings
from kilnwatch.reference.levels import LevelTable, load_level_tables, read_provincial_tables


def level_tables(settings: Settings) -> tuple[LevelTable, ...]:
    """Packaged tables, then the provincial ones (a provincial table wins a tie)."""
    provincial = (
        read_provincial_tables(settings.provincial_levels_dir)
        if settings.provincial_levels_dir is not None
        else ()
    )
    return (*load_level_tables(), *provincial)


__all__ = ["level_tables"]
