"""``kilnwatch report efficiency|carbon``: accounts per unit or aggregated, with their inputs."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from kilnwatch.cli._common import SYSTEM, console, fail, period_option, session_scope
from kilnwatch.domain.periods import Period
from kilnwatch.errors import KilnwatchError
from kilnwatch.reports.accounting import GroupAccount, UnitAccount, group_accounts, unit_accounts

app = typer.Typer(help="Energy-efficiency and carbon reports.", no_args_is_help=True)

By = Annotated[str, typer.Option(help="unit, enterprise, city, industry or province")]
PeriodOpt = Annotated[Period, period_option("The period:")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _compute(period: Period, by: str) -> tuple[list[UnitAccount], list[GroupAccount]]:
    if by not in ("unit", "enterprise", "city", "industry", "province"):
        raise typer.BadParameter(
            "use unit, enterprise, city, industry or province", param_hint="--by"
        )  # noqa: E501
    try:
        with session_scope() as session:
            accounts = unit_accounts(session, SYSTEM, period)
            groups = [] if by == "unit" else group_accounts(session, accounts, by)
    except KilnwatchError as exc:
        raise fail(exc) from exc
    return accounts, groups


@app.command("efficiency")
def efficiency(period: PeriodOpt, by: By = "unit", as_json: JsonOpt = False) -> None:
    """Unit product energy consumption and class against the benchmark/baseline levels."""
    accounts, groups = _compute(period, by)
    if as_json:
        rows = [asdict(a) for a in accounts] if by == "unit" else [asdict(g) for g in groups]
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if by == "unit":
        table = Table(
            "enterprise",
            "unit",
            "field",
            "energy tce",
            "intensity",
            "unit of",
            "class",
            "table",
            "gap tce/a",
            title=f"efficiency {period}",
        )
        for a in accounts:
            table.add_row(
                a.enterprise_name,
                a.unit_code,
                a.level_field,
                _fmt(a.energy_tce),
                _fmt(a.intensity, 2),
                a.intensity_unit or "",
                a.class_ or "-",
                a.class_table or "",
                _fmt(a.gap_to_baseline_tce_per_year),
            )
    else:
        table = Table(
            by,
            "units",
            "classified",
            "below baseline",
            "energy tce",
            "share at benchmark",
            "target",
            title=f"efficiency {period} by {by}",
        )
        for g in groups:
            share = g.capacity_share_at_benchmark_fraction
            table.add_row(
                g.name,
                str(g.units),
                str(g.units_classified),
                str(g.units_below_baseline),
                _fmt(g.energy_tce),
                "-" if share is None else f"{share:.1%}",
                "-" if g.meets_target is None else ("met" if g.meets_target else "not met"),
            )
    console.print(table)


@app.command("carbon")
def carbon(period: PeriodOpt, by: By = "unit", as_json: JsonOpt = False) -> None:
    """CO2 from fuel combustion and purchased electricity and heat."""
    accounts, groups = _compute(period, by)
    if as_json:
        rows = (
            [
                {
                    "unit": a.unit_code,
                    "enterprise": a.enterprise_uscc,
                    "co2_t": a.co2_t,
                    "co2_by_source_t": a.co2_by_source_t,
                    "notes": a.notes,
                }
                for a in accounts
            ]
            if by == "unit"
            else [{"key": g.key, "name": g.name, "co2_t": g.co2_t} for g in groups]
        )
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(by, "CO2 t", "by source", title=f"carbon {period} by {by}")
    if by == "unit":
        for a in accounts:
            sources = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(a.co2_by_source_t.items()))
            table.add_row(f"{a.enterprise_name} {a.unit_code}", _fmt(a.co2_t), sources)
    else:
        for g in groups:
            table.add_row(g.name, _fmt(g.co2_t), "")
    console.print(table)


@app.command("intensity")
def intensity(
    period: PeriodOpt,
    # Typer parses the default text like a given one
    base: Annotated[Period, period_option("Base period:", field="base")] = "2020",  # type: ignore[assignment]
    by: Annotated[str, typer.Option(help="enterprise, city or province")] = "city",
    as_json: JsonOpt = False,
) -> None:
    """Energy and carbon intensity per 10^4 CNY revenue against a base period."""
    from kilnwatch.reports.intensity import intensity_rows

    if by not in ("enterprise", "city", "province"):
        raise typer.BadParameter("use enterprise, city or province", param_hint="--by")
    try:
        with session_scope() as session:
            rows = intensity_rows(session, SYSTEM, period, base, by)
    except KilnwatchError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
        return
    table = Table(
        by,
        "tce/10^4 CNY",
        f"base {base}",
        "change",
        "tCO2/10^4 CNY",
        "change",
        title=f"intensity {period} vs {base}",
    )
    for r in rows:
        table.add_row(
            r.name,
            _fmt(r.period.energy_intensity_tce_per_10k_cny, 3),
            _fmt(r.base.energy_intensity_tce_per_10k_cny, 3),
            "-" if r.energy_change_fraction is None else f"{r.energy_change_fraction:+.1%}",
            _fmt(r.period.carbon_intensity_t_per_10k_cny, 3),
            "-" if r.carbon_change_fraction is None else f"{r.carbon_change_fraction:+.1%}",
        )
    console.print(table)
