"""Classify a unit's energy intensity against efficiency-level tables.

Three kinds of table (``reference/levels``): NDRC 标杆/基准 editions, provincial tables of the
same shape, and the mandatory GB limit standards (grade 1 best, grade 3 = legal limit).

References
----------
.. [1] 发改产业〔2021〕1609号, 高耗能行业重点领域能效标杆水平和基准水平（2021年版）.
.. [2] 发改产业〔2023〕723号, 工业重点领域能效标杆水平和基准水平（2023年版）.
.. [3] The mandatory energy-consumption limit standards, grades 1-3 (grade 3 the limit for
   existing plants): GB 16780-2021 (cement), GB 21256-2025 (steel processes), GB 21258-2024
   (coal power, Table 1), GB 21340-2019 (flat glass), GB 21341-2022 (ferroalloys), GB 21342-2025
   (coke), GB 21346-2022 (aluminium), GB 29436-2023 (methanol, ethylene glycol) ...; values as
   transcribed in ``levels/gb_limit_grades.csv`` and ``levels/gb_21258_coal_power.csv``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from kilnwatch.domain._validate import check_finite, check_nonnegative, split_ratio_unit
from kilnwatch.domain.energy import ELECTRICITY, coefficient_for
from kilnwatch.domain.units import convert, unit_def
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

    Parameters
    ----------
    table_id : str
        The table (``ndrc_2021``, ``GB 16780-2021``, ``province:<name>``). [-]
    kind : str
        ``ndrc``, ``province`` or ``gb``. [-]
    level : str
        ``benchmark``, ``baseline``, ``grade1``, ``grade2`` or ``grade3``. [-]
    value : float
        The level. [field unit]
    unit : str
        The field unit (``kgce/t`` ...). [-]
    met : bool
        True when the value is at the level or better. [-]
    gap : float
        Improvement still needed to reach the level, <= 0 when met. [field unit]
    gap_tce_per_year : float or None
        The gap times the annual output, None when the output or a conversion is unknown.
        [tce/a]
    confidence : str
        Confidence of the level row: good, medium or low. [-]
    source : str
        Source of the level row. [-]

    References
    ----------
    .. [1] 发改产业〔2021〕1609号 and 发改产业〔2023〕723号 (标杆 / 基准 levels); the GB limit
       standards (grades 1-3), as in the module references.
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
    """The class one table gives, or why it gives none.

    Parameters
    ----------
    table_id : str
        The table. [-]
    kind : str
        ``ndrc``, ``province`` or ``gb``. [-]
    edition_year : int
        The table's edition (the standard's year for a GB table). [-]
    title : str
        The table's title. [-]
    variant : str
        The row's variant, empty for the whole field. [-]
    status : {"classified", "no_confirmed_level", "variant_required", "undetermined"}
        Whether the table classified the value, and why not. [-]
    class_ : str or None
        ``benchmark``/``between``/``below_baseline`` (NDRC, province) or
        ``grade_1``.. ``worse_than_grade_3`` (GB); None without a class. [-]
    levels : tuple of LevelDistance
        The distance to each confirmed level of the row. [-]
    variants : tuple of str
        The variants to choose from when one is required. [-]
    confidence : str
        Confidence of the row used. [-]
    notes : str
        Notes of the row, or why no row was used. [-]

    References
    ----------
    .. [1] 发改产业〔2021〕1609号, 发改产业〔2023〕723号 and the GB limit standards (grade 3 is
       the limit for existing plants), as in the module references.
    """

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

    Parameters
    ----------
    field : str
        The field key. [-]
    value : float
        The value classified. [field unit]
    unit : str
        The field unit. [-]
    variant : str or None
        The variant asked for. [-]
    class_ : str or None
        From the newest NDRC or provincial table with confirmed values, else from the newest
        GB standard mapped by :data:`GB_GRADE_TO_CLASS`; None when no table classifies. [-]
    class_table : str or None
        The table that gave ``class_``. [-]
    legal_breach : bool or None
        True when a GB table puts the value worse than grade 3, None when no GB table could
        classify it. [-]
    verdicts : tuple of TableVerdict
        One verdict per table having the field. [-]
    class_basis : str or None
        ``ndrc``, ``province`` or ``gb_grade`` (mapped by :data:`GB_GRADE_TO_CLASS`). [-]

    References
    ----------
    .. [1] 发改产业〔2021〕1609号 and 〔2023〕723号 (标杆 / 基准); the GB limit standards
       (grades 1-3), as in the module references.
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
    """Capacity-weighted share of units at benchmark, vs the policy target.

    Parameters
    ----------
    capacity_at_benchmark : float
        Capacity of the units at the benchmark level. [capacity unit]
    capacity_total : float
        Capacity of all units. [capacity unit]
    share_fraction : float
        ``capacity_at_benchmark / capacity_total``. [-]
    target_fraction : float
        The target share. [-]
    meets_target : bool
        Whether the share meets the target's comparison. [-]
    target_source : str
        Source of the target row. [-]
    target_confidence : str
        Confidence of the target row. [-]

    References
    ----------
    .. [1] The 2025 goal of more than 30 % of key industries' capacity at the 标杆 level, as
       reported by Reuters, 2021-10-21 (``levels/targets.csv``; the official text not seen).
    """

    capacity_at_benchmark: float
    capacity_total: float
    share_fraction: float
    target_fraction: float
    meets_target: bool
    target_source: str
    target_confidence: str


def field_def(field: str, fields: Mapping[str, FieldDef] | None = None) -> FieldDef:
    """The definition of an efficiency-level field.

    Parameters
    ----------
    field : str
        Field key of ``levels/fields.csv`` (``cement_clinker``, ``coal_power`` ...). [-]
    fields : mapping of str to FieldDef, optional
        The field table; defaults to the packaged one. [-]

    Returns
    -------
    FieldDef
        Indicator (zh), unit, ``lower_is_better``, product, source and confidence.

    Raises
    ------
    UnknownFieldError
        The field is not defined.

    References
    ----------
    .. [1] The indicator and unit of each field as the limit standard names them, e.g.
       GB 16780-2021 熟料单位产品综合能耗 [kgce/t], GB 21258-2024 供电煤耗率 [gce/kWh]
       (``levels/fields.csv``).
    """
    table = load_fields() if fields is None else fields
    if field not in table:
        raise UnknownFieldError(f"unknown efficiency field {field!r}; see `kilnwatch calc list`")
    return table[field]


@cache  # pure and called once per unit and level on every page of accounts
def kgce_per_numerator(field_unit: str) -> float | None:
    """Standard coal per unit of a field unit's numerator.

    Parameters
    ----------
    field_unit : str
        The field unit (``kgce/t``, ``gce/kWh``, ``kWh/t`` ...). [-]

    Returns
    -------
    float or None
        1 for kgce, 0.001 for gce, the electricity 当量值 0.1229 for kWh [kgce per numerator
        unit]; None for a numerator with no sourced conversion (kgoe).

    References
    ----------
    .. [1] GB/T 2589-2020, 3.2 (能量的当量值) and Annex A (electricity 0.1229 kgce/kWh).
    """
    numerator, _ = split_ratio_unit(field_unit)
    definition = unit_def(numerator)
    if definition.dimension == "coal_equivalent":
        return convert(1.0, numerator, "kgce")
    if definition.dimension == "energy":
        row = coefficient_for(ELECTRICITY, numerator)
        if row.kgce_per_unit is not None:
            return convert(1.0, numerator, row.unit) * row.kgce_per_unit
    return None


def gap_to_level(value: float, level: float, lower_is_better: bool) -> float:
    """Improvement still needed to reach a level.

    Parameters
    ----------
    value : float
        The unit's intensity. [field unit]
    level : float
        The level (标杆, 基准 or a grade). [field unit]
    lower_is_better : bool
        True for consumption indicators (kgce/t ...). [-]

    Returns
    -------
    float
        ``value − level`` when lower is better, else ``level − value``; <= 0 when the level is
        met. [field unit]

    References
    ----------
    .. [1] 发改产业〔2021〕1609号 and 〔2023〕723号: 标杆 / 基准 levels of energy consumption per
       unit product (lower is better); GB limit standards, grades 1-3.
    """
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
    """Classify a unit's intensity against every table having its field.

    Parameters
    ----------
    field : str
        Field key (``cement_clinker``, ``coal_power`` ...). [-]
    value : float
        The unit's intensity. [field unit]
    variant : str, optional
        Sub-type when a table distinguishes them (``ultra_supercritical_1000mw``,
        ``capacity_gt800_t_per_d`` ...). [-]
    output_per_year : float, optional
        Annual output, to express gaps per year. [field unit denominator/a]
    tables : iterable of LevelTable, optional
        Default: the packaged NDRC and GB tables; add provincial tables to extend. [-]
    fields : mapping of str to FieldDef, optional
        The field table; defaults to the packaged one. [-]

    Returns
    -------
    Classification
        NDRC/provincial classes are ``benchmark`` (value at or better than 标杆),
        ``between``, ``below_baseline`` (worse than 基准); GB classes are ``grade_1`` ...
        ``worse_than_grade_3`` (the legal limit is breached).

    Notes
    -----
    A level is met when ``value <= level`` (``>=`` where higher is better). NDRC: met 标杆 →
    ``benchmark``; missed 基准 → ``below_baseline``; else ``between``. GB: the best grade met,
    or ``worse_than_grade_3``. Gaps per year: ``max(gap, 0) × output × kgce per numerator
    unit / 1000`` [tce/a].

    References
    ----------
    .. [1] 发改产业〔2021〕1609号 and 发改产业〔2023〕723号, 标杆水平 / 基准水平 by field.
    .. [2] The GB energy-consumption limit standards, grades 1-3 (grade 3 the limit every
       existing plant must meet), e.g. GB 16780-2021, GB 21256-2025, GB 21258-2024 Table 1,
       GB 21346-2022; corrections (altitude, ore grade, cooling) are not applied.
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
        Capacity, in one unit for all, and the unit's class (a string such as ``benchmark``
        or a :class:`Classification`). [capacity unit]
    target : Target, optional
        Default: ``share_at_benchmark_2025`` from ``levels/targets.csv`` (> 30 %). [-]

    Returns
    -------
    ShareAtBenchmark
        The capacities [capacity unit], the share [-] and whether it meets the target.

    Raises
    ------
    InputError
        A negative capacity, or a total capacity of zero.

    Notes
    -----
    ``share = Σ capacity of units at benchmark / Σ capacity of all units``.

    References
    ----------
    .. [1] The 2025 goal of more than 30 % of key industries' capacity at the 标杆 level, as
       reported by Reuters, 2021-10-21 (``levels/targets.csv``, medium; official text not seen).
    """
    goal = load_targets()[SHARE_TARGET] if target is None else target
    at_benchmark = total = 0.0
    for capacity, label in units:
        check_nonnegative(capacity, "capacity")
        cls = label.class_ if isinstance(label, Classification) else label
        total += capacity
        at_benchmark += capacity if cls == BENCHMARK else 0.0
    if total <= 0:
        raise InputError("total capacity must be positive", field="capacity")
    share = at_benchmark / total
    return ShareAtBenchmark(
        at_benchmark,
        total,
        share,
        target_fraction(goal),
        meets_target(share, goal),
        goal.source,
        goal.confidence,
    )


def target_fraction(target: Target) -> float:
    """A policy target's value as a fraction.

    Parameters
    ----------
    target : Target
        A row of ``levels/targets.csv``; its value in ``%`` or already a fraction. [-]

    Returns
    -------
    float
        The value / 100 for ``%``, else the value. [-]

    References
    ----------
    .. [1] The targets of ``levels/targets.csv``: 国发〔2021〕33号 (energy intensity 13.5 %
       below 2020 by 2025, as quoted) and the > 30 % share at 标杆 by 2025 (as reported).
    """
    return target.value / 100 if target.unit == "%" else target.value


def meets_target(actual_fraction: float, target: Target) -> bool:
    """Whether a figure meets a policy target, by the target's comparison.

    Parameters
    ----------
    actual_fraction : float
        The figure, as a fraction (a share, a reduction). [-]
    target : Target
        A row of ``levels/targets.csv`` with comparison ``gt``, ``ge``, ``lt`` or ``le``. [-]

    Returns
    -------
    bool
        ``actual_fraction <comparison> target_fraction(target)``.

    References
    ----------
    .. [1] The targets of ``levels/targets.csv``: 国发〔2021〕33号 ("下降13.5%", reduction at
       least the target) and "超过30%" (share above the target), as quoted there.
    """
    wanted = target_fraction(target)
    checks = {
        "gt": actual_fraction > wanted,
        "ge": actual_fraction >= wanted,
        "lt": actual_fraction < wanted,
        "le": actual_fraction <= wanted,
    }
    return checks[target.comparison]
