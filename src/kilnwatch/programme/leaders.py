"""领跑者: units ranked within each field by their distance to the 标杆 (benchmark) level.

References
----------
.. [1] 发改产业〔2021〕1609号 and 〔2023〕723号: the 标杆水平 is the advanced level units are led
   towards; the GB limit standards' grade 1 where no NDRC or provincial value is confirmed
   (:data:`kilnwatch.domain.levels.GB_GRADE_TO_CLASS`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kilnwatch.accounting.units import UnitAccount
from kilnwatch.domain.levels import classify
from kilnwatch.errors import KilnwatchError
from kilnwatch.reference.levels import LevelTable


@dataclass(frozen=True)
class LeaderRow:
    """A unit's place in its field: intensity, the benchmark and the relative gap."""

    rank: int
    level_field: str
    unit_code: str
    enterprise_uscc: str
    enterprise_name: str
    intensity: float
    intensity_unit: str
    benchmark: float
    benchmark_table: str
    gap_fraction: float
    """(intensity − benchmark) / benchmark for lower-is-better fields; ≤ 0 at benchmark."""
    leader: bool


def _benchmark(acc: UnitAccount, tables: Sequence[LevelTable] | None) -> tuple[float, str] | None:
    if acc.intensity is None or acc.class_table is None:
        return None
    try:
        c = classify(acc.level_field, acc.intensity, variant=acc.level_variant, tables=tables)
    except KilnwatchError:
        return None
    wanted = "grade1" if c.class_basis == "gb_grade" else "benchmark"
    for level in c.levels:
        if level.table_id == c.class_table and level.level == wanted:
            return level.value, level.table_id
    return None


def leaders(
    accounts: Iterable[UnitAccount], tables: Sequence[LevelTable] | None = None
) -> list[LeaderRow]:
    """Every classified unit ranked within its field, closest to (or best past) the benchmark
    first; ``leader`` is True at or better than the benchmark."""
    by_field: dict[str, list[tuple[float, UnitAccount, float, str]]] = defaultdict(list)
    for acc in accounts:
        found = _benchmark(acc, tables)
        if found is None or acc.intensity is None:
            continue
        level, table = found
        by_field[acc.level_field].append(((acc.intensity - level) / level, acc, level, table))
    rows = []
    for field in sorted(by_field):
        ranked = sorted(by_field[field], key=lambda item: item[0])
        for i, (gap, acc, level, table) in enumerate(ranked, start=1):
            rows.append(
                LeaderRow(
                    i,
                    field,
                    acc.unit_code,
                    acc.enterprise_uscc,
                    acc.enterprise_name,
                    acc.intensity or 0.0,
                    acc.intensity_unit or "",
                    level,
                    table,
                    gap,
                    gap <= 0,
                )
            )
    return rows


__all__ = ["LeaderRow", "leaders"]
