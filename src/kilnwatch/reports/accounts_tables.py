"""The accounting results as report tables: unit accounts (efficiency, carbon), their
aggregates and intensity rows. Used by ``kilnwatch report efficiency|carbon|intensity`` and
by reports that show the same figures."""

from __future__ import annotations

from collections.abc import Sequence

from kilnwatch.reports.document import CellValue, Column, Table, Text
from kilnwatch.reports.services import GroupAccount, IntensityRow, UnitAccount

BY_COLUMNS = {
    "enterprise": "enterprise",
    "city": "city",
    "industry": "industry",
    "province": "province",
}


def _target(met: bool | None) -> str | None:
    return None if met is None else ("met" if met else "not_met")


def efficiency_units_table(accounts: Sequence[UnitAccount], period: str) -> Table:
    columns = (
        Column("enterprise", kind="text"),
        Column("unit", kind="text"),
        Column("energy_tce", unit="tce"),
        Column("intensity", digits=2),
        Column("intensity_unit", kind="text"),
        Column("class", kind="code", codes="class"),
        Column("class_table", kind="text"),
        Column("gap_to_baseline_tce_per_year", unit="tce/a"),
    )
    rows = tuple(
        (
            a.enterprise_name, a.unit_code, a.energy_tce, a.intensity, a.intensity_unit,
            a.class_, a.class_table, a.gap_to_baseline_tce_per_year,
        )
        for a in accounts
    )  # fmt: skip
    return Table("efficiency.units", Text(f"能效水平 {period}", f"efficiency {period}"),
                 columns, rows)  # fmt: skip


def efficiency_groups_table(groups: Sequence[GroupAccount], by: str, period: str) -> Table:
    columns = (
        Column(BY_COLUMNS[by], kind="text"),
        Column("units", kind="integer"),
        Column("units_classified", kind="integer"),
        Column("units_below_baseline", kind="integer"),
        Column("energy_tce", unit="tce"),
        Column("share_at_benchmark_fraction", kind="fraction"),
        Column("share_target", kind="code", codes="target"),
    )
    rows: tuple[tuple[CellValue, ...], ...] = tuple(
        (
            g.name, g.units, g.units_classified, g.units_below_baseline, g.energy_tce,
            g.capacity_share_at_benchmark_fraction, _target(g.meets_target),
        )
        for g in groups
    )  # fmt: skip
    return Table(f"efficiency.{by}", Text(f"能效水平 {period}", f"efficiency {period} by {by}"),
                 columns, rows)  # fmt: skip


def carbon_table(
    accounts: Sequence[UnitAccount], groups: Sequence[GroupAccount], by: str, period: str
) -> Table:
    title = Text(f"二氧化碳排放 {period}", f"carbon {period} by {by}")
    if by != "unit":
        groups_columns = (Column(BY_COLUMNS[by], kind="text"), Column("co2_t", unit="tCO2"))
        rows = tuple((g.name, g.co2_t) for g in groups)
        return Table(f"carbon.{by}", title, groups_columns, rows)
    columns = (
        Column("enterprise", kind="text"),
        Column("unit", kind="text"),
        Column("co2_t", unit="tCO2"),
        Column("carrier", kind="text", header=Text("分来源", "by source")),
    )
    unit_rows = tuple(
        (
            a.enterprise_name,
            a.unit_code,
            a.co2_t,
            ", ".join(f"{k} {v:,.0f}" for k, v in sorted(a.co2_by_source_t.items())),
        )
        for a in accounts
    )
    return Table("carbon.units", title, columns, unit_rows)


def intensity_table(rows: Sequence[IntensityRow], by: str, period: str, base: str) -> Table:
    columns = (
        Column(BY_COLUMNS[by], kind="text"),
        Column("energy_intensity", unit="tce/10k_CNY", digits=3),
        Column("energy_intensity_base", unit="tce/10k_CNY", digits=3,
               header=Text(f"能耗强度（{base}）", f"Energy intensity ({base})")),
        Column("energy_intensity_vs_base_fraction", kind="fraction",
               header=Text(f"能耗强度较{base}", f"Energy intensity vs {base}")),
        Column("carbon_intensity", unit="tCO2/10k_CNY", digits=3),
        Column("carbon_intensity_vs_base_fraction", kind="fraction",
               header=Text(f"碳排放强度较{base}", f"Carbon intensity vs {base}")),
    )  # fmt: skip
    body = tuple(
        (
            r.name,
            r.period.energy_intensity_tce_per_10k_cny,
            r.base.energy_intensity_tce_per_10k_cny,
            r.energy_change_fraction,
            r.period.carbon_intensity_t_per_10k_cny,
            r.carbon_change_fraction,
        )
        for r in rows
    )
    return Table(f"intensity.{by}", Text(f"强度 {period}", f"intensity {period} vs {base}"),
                 columns, body)  # fmt: skip


__all__ = [
    "carbon_table",
    "efficiency_groups_table",
    "efficiency_units_table",
    "intensity_table",
]
