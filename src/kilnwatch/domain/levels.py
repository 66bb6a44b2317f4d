"""Classify a unit's energy intensity against efficiency-level tables.

Three kinds of table (``reference/levels``): NDRC 标杆/基准 editions, provincial tables of the
same shape, and the mandatory GB limit standards (grade 1 best, grade 3 = legal limit).

References
----------
.. [1] 发改产业〔2021〕1609号, 高耗能行业重点领域能效标杆水平和基准水平（2021年版）.
.. [2] 发改产业〔2023〕723号, 工业重点领域能效标杆水平和基准水平（2023年版）.
.. [3] GB 16780-2021, GB 21256-2025, GB 21258-2024, GB 21346-2022, ... (grades 1-3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kilnwatch.domain.energy import ELECTRICITY, coefficient_for, split_field_unit
from kilnwatch.domain.units import check_finite, convert, unit_def
from kilnwatch.errors import InputError, UnknownFieldError
from kilnwatch.reference.levels import (
    FieldDef,
    LevelRow,
    LevelTable,
    Target,
    load_fields,
    load_level_tables,
    load_targets,
)

Status = Literal["classified", "no_confirmed_level", "variant_required", "undetermined"]
NDRC_CLASSES = ("benchmark", "between", "below_baseline")
GB_CLASSES = ("grade_1", "grade_2", "grade_3", "worse_than_grade_3")
SHARE_TARGET = "share_at_benchmark_2025"
BENCHMARK = "benchmark"

GB_GRADE_TO_CLASS = {
    "grade_1": "benchmark",
    "grade_2": "between",
    "grade_3": "between",
    "worse_than_grade_3": "below_baseline",
}
"""How a GB grade reads as a policy class when no NDRC or provincial table has the field.

The NDRC 2021 levels were set on the GB limit standards where one exists: for cement clinker
标杆 100 / 基准 117 kgce/t (发改产业〔2021〕1609号) equal grade 1 / grade 3 of GB 16780-2021.
So grade 1 or better reads as ``benchmark`` and worse than grade 3 (the legal limit) as
``below_baseline``; ``Classification.class_basis`` says when this mapping was used."""


@dataclass(frozen=True)
class LevelDistance:
    """A level of one table and how far the value is from it.

    ``gap`` [field unit] is the improvement still needed to reach the level (<= 0 when met);
    ``gap_tce_per_year`` is that gap times the annual output [tce/a], None when unknown.
    """

    table_id: str
    kind: str
    level: str
    value: float
    unit: str
    met: bool
    gap: float
    gap_tce_per_year: float | None
    confidence: str
    source: str


@dataclass(frozen=True)
class TableVerdict:
    """The class one table gives, or why it gives none."""

    table_id: str
    kind: str
    edition_year: int
    title: str
    variant: str
    status: Status
    class_: str | None
    levels: tuple[LevelDistance, ...]
    variants: tuple[str, ...]
    confidence: str
    notes: str


@dataclass(frozen=True)
class Classification:
    """A value classified against every table that has the field.

    ``class_`` comes from the newest NDRC/provincial table with confirmed values, else from the
    newest GB standard (then it is a grade class); ``legal_breach`` is True when any GB table
    puts the value worse than grade 3, None when no GB table could classify it.
    """

    field: str
    value: float
    unit: str
    variant: str | None
    class_: str | None
    class_table: str | None
    legal_breach: bool | None
    verdicts: tuple[TableVerdict, ...]
    class_basis: str | None = None
    """``ndrc``, ``province`` or ``gb_grade`` (mapped by :data:`GB_GRADE_TO_CLASS`)."""

    @property
    def levels(self) -> tuple[LevelDistance, ...]:
        """Every level of every table, with distances."""
        return tuple(level for verdict in self.verdicts for level in verdict.levels)

    @property
    def no_confirmed_level(self) -> bool:
        """True when no table has a confirmed level value for the field."""
        return all(v.status == "no_confirmed_level" for v in self.verdicts)


@dataclass(frozen=True)
class ShareAtBenchmark:
    """Capacity-weighted share of units at benchmark, vs the policy target."""

    capacity_at_benchmark: float
    capacity_total: float
    share_fraction: float
    target_fraction: float
    meets_target: bool
    target_source: str
    target_confidence: str


def field_def(field: str, fields: Mapping[str, FieldDef] | None = None) -> FieldDef:
    """The definition of ``field``; :class:`UnknownFieldError` if none."""
    table = load_fields() if fields is None else fields
    if field not in table:
        raise UnknownFieldError(f"unknown efficiency field {field!r}; see `kilnwatch calc list`")
    return table[field]


def kgce_per_numerator(field_unit: str) -> float | None:
    """kgce per unit of the field unit's numerator (gce -> 0.001; kWh -> 当量值), else None."""
    numerator, _ = split_field_unit(field_unit)
    definition = unit_def(numerator)
    if definition.dimension == "coal_equivalent":
        return convert(1.0, numerator, "kgce")
    if definition.dimension == "energy":
        row = coefficient_for(ELECTRICITY, numerator)
        if row.kgce_per_unit is not None:
            return convert(1.0, numerator, row.unit) * row.kgce_per_unit
    return None


def gap_to_level(value: float, level: float, lower_is_better: bool) -> float:
    """Improvement needed to reach ``level`` [field unit]; <= 0 when the level is met."""
    return value - level if lower_is_better else level - value


@dataclass(frozen=True)
class _Context:
    field: FieldDef
    value: float
    output_per_year: float | None


def _distance(
    table: LevelTable, row: LevelRow, name: str, level: float, ctx: _Context
) -> LevelDistance:
    gap = gap_to_level(ctx.value, level, ctx.field.lower_is_better)
    factor = kgce_per_numerator(ctx.field.unit)
    tce = None
    if ctx.output_per_year is not None and factor is not None:
        tce = convert(max(gap, 0.0) * ctx.output_per_year * factor, "kgce", "tce")
    return LevelDistance(
        table.table_id,
        table.kind,
        name,
        level,
        row.unit,
        gap <= 0,
        gap,
        tce,
        row.confidence,
        row.source,
    )


def _ndrc_class(met: Mapping[str, bool]) -> str | None:
    if met.get("benchmark"):
        return "benchmark"
    if met.get("baseline") is False:
        return "below_baseline"
    if "benchmark" in met and "baseline" in met:
        return "between"
    return None


def _gb_class(met: Mapping[str, bool]) -> str | None:
    for grade, label in zip(("grade1", "grade2", "grade3"), GB_CLASSES, strict=False):
        if met.get(grade):
            return label
    return GB_CLASSES[-1] if "grade3" in met else None


def _pick_rows(rows: Sequence[LevelRow], variant: str | None) -> list[LevelRow]:
    if variant is not None:
        exact = [r for r in rows if r.variant == variant]
        return exact or [r for r in rows if r.variant == ""]
    return list(rows)


def _verdict(
    table: LevelTable, rows: Sequence[LevelRow], ctx: _Context, variant: str | None
) -> TableVerdict:
    picked = _pick_rows(rows, variant)
    head = (table.table_id, table.kind, table.edition_year, table.title)
    if len(picked) != 1:
        variants = tuple(r.variant for r in (picked or rows))
        status: Status = "variant_required" if len(picked) > 1 else "undetermined"
        note = "pass a variant" if picked else f"variant {variant!r} not in table"
        return TableVerdict(*head, variant or "", status, None, (), variants, "", note)
    row = picked[0]
    levels = tuple(_distance(table, row, n, v, ctx) for n, v in row.levels if v is not None)
    met = {d.level: d.met for d in levels}
    cls = _gb_class(met) if table.kind == "gb" else _ndrc_class(met)
    status = "classified" if cls else ("no_confirmed_level" if not levels else "undetermined")
    return TableVerdict(*head, row.variant, status, cls, levels, (), row.confidence, row.notes)


def _overall(verdicts: Sequence[TableVerdict]) -> tuple[str | None, str | None, str | None]:
    rank = {"gb": 0, "ndrc": 1, "province": 2}
    done = [v for v in verdicts if v.status == "classified"]
    policy = [v for v in done if v.kind != "gb"] or done
    if not policy:
        return None, None, None
    best = max(policy, key=lambda v: (v.kind != "gb", v.edition_year, rank[v.kind]))
    if best.kind == "gb":
        return GB_GRADE_TO_CLASS.get(best.class_ or ""), best.table_id, "gb_grade"
    return best.class_, best.table_id, best.kind


def classify(
    field: str,
    value: float,
    *,
    variant: str | None = None,
    output_per_year: float | None = None,
    tables: Iterable[LevelTable] | None = None,
    fields: Mapping[str, FieldDef] | None = None,
) -> Classification:
    """Classify ``value`` [field unit] against every table having ``field``.

    Parameters
    ----------
    field : str
        Field key (``cement_clinker``, ``coal_power`` ...).
    value : float
        The unit's intensity [field unit].
    variant : str, optional
        Sub-type when a table distinguishes them (``ultra_supercritical_1000mw``,
        ``capacity_gt800_t_per_d`` ...).
    output_per_year : float, optional
        Annual output [field unit denominator / a] to express gaps in [tce/a].
    tables : iterable of LevelTable, optional
        Default: the packaged NDRC and GB tables; add provincial tables to extend.

    Returns
    -------
    Classification
        NDRC/provincial classes are ``benchmark`` (value at or better than 标杆),
        ``between``, ``below_baseline`` (worse than 基准); GB classes are ``grade_1`` ...
        ``worse_than_grade_3`` (the legal limit is breached).
    """
    ctx = _Context(field_def(field, fields), check_finite(value, "value"), output_per_year)
    verdicts: list[TableVerdict] = []
    for table in load_level_tables() if tables is None else tables:
        rows = [r for r in table.rows if r.field == field]
        if rows:
            verdicts.append(_verdict(table, rows, ctx, variant))
    cls, cls_table, basis = _overall(verdicts)
    gb = [v for v in verdicts if v.kind == "gb" and v.status == "classified"]
    breach = any(v.class_ == GB_CLASSES[-1] for v in gb) if gb else None
    return Classification(
        field, value, ctx.field.unit, variant, cls, cls_table, breach, tuple(verdicts), basis
    )


def share_at_benchmark(
    units: Iterable[tuple[float, str | Classification | None]],
    *,
    target: Target | None = None,
) -> ShareAtBenchmark:
    """Capacity-weighted share of units at the benchmark level, vs the 2025 target.

    Parameters
    ----------
    units : iterable of (capacity, class)
        Capacity [any one unit, the same for all] and the unit's class (a string such as
        ``benchmark`` or a :class:`Classification`).
    target : Target, optional
        Default: ``share_at_benchmark_2025`` from ``levels/targets.csv`` (> 30 %).

    Raises
    ------
    InputError
        A negative capacity, or a total capacity of zero.
    """
    goal = load_targets()[SHARE_TARGET] if target is None else target
    at_benchmark = total = 0.0
    for capacity, label in units:
        if check_finite(capacity, "capacity") < 0:
            raise InputError("capacity must not be negative", field="capacity")
        cls = label.class_ if isinstance(label, Classification) else label
        total += capacity
        at_benchmark += capacity if cls == BENCHMARK else 0.0
    if total <= 0:
        raise InputError("total capacity must be positive", field="capacity")
    share = at_benchmark / total
    target_fraction = convert_pct(goal.value, goal.unit)
    return ShareAtBenchmark(
        at_benchmark,
        total,
        share,
        target_fraction,
        compare(share, goal.comparison, target_fraction),
        goal.source,
        goal.confidence,
    )


def convert_pct(value: float, unit: str) -> float:
    """A target value as a fraction (``%`` -> /100)."""
    return value / 100 if unit == "%" else value


def compare(actual: float, comparison: str, threshold: float) -> bool:
    """``actual`` vs ``threshold`` with gt/ge/lt/le."""
    checks = {
        "gt": actual > threshold,
        "ge": actual >= threshold,
        "lt": actual < threshold,
        "le": actual <= threshold,
    }
    return checks[comparison]
