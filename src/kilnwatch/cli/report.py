"""``kilnwatch report …``: report files (monthly, enterprise) and the accounting tables in the
terminal (efficiency, carbon, intensity), Chinese by default, English with ``--lang en``."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from kilnwatch.cli._common import SYSTEM, command_session, console, period_option, settings
from kilnwatch.domain.periods import Period
from kilnwatch.reports.accounts_tables import (
    carbon_table,
    efficiency_groups_table,
    efficiency_units_table,
    intensity_table,
)
from kilnwatch.reports.document import Table
from kilnwatch.reports.services import (
    GroupAccount,
    UnitAccount,
    group_accounts,
    intensity_rows,
    unit_accounts,
)
from kilnwatch.reports.terminal import rich_table

app = typer.Typer(help="Reports (XLSX/PDF) and accounting tables.", no_args_is_help=True)

By = Annotated[str, typer.Option(help="unit, enterprise, city, industry or province")]
PeriodOpt = Annotated[Period, period_option("The period:")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
LangOpt = Annotated[str, typer.Option("--lang", help="zh-CN (default) or en")]
FormatOpt = Annotated[str, typer.Option("--format", help="xlsx, pdf (or csv for one table)")]
OutOpt = Annotated[Path, typer.Option("--out", help="File to write.")]
CityOpt = Annotated[str | None, typer.Option("--city", help="City code, e.g. 3703.")]
EnterpriseOpt = Annotated[str | None, typer.Option("--enterprise", help="Enterprise USCC.")]


def _lang(lang: str) -> str:
    if lang not in ("zh-CN", "en"):
        raise typer.BadParameter("use zh-CN or en", param_hint="--lang")
    return lang


def _print(table: Table, lang: str) -> None:
    console.print(rich_table(table, _lang(lang), settings().timezone))


def _compute(period: Period, by: str) -> tuple[list[UnitAccount], list[GroupAccount]]:
    if by not in ("unit", "enterprise", "city", "industry", "province"):
        raise typer.BadParameter(
            "use unit, enterprise, city, industry or province", param_hint="--by"
        )
    with command_session() as session:
        accounts = unit_accounts(session, SYSTEM, period)
        groups = [] if by == "unit" else group_accounts(session, accounts, by)
    return accounts, groups


def write_report(
    name: str,
    period: Period,
    fmt: str,
    out: Path,
    lang: str,
    city: str | None,
    enterprise: str | None,
) -> None:
    """Build report ``name`` and write it to ``out`` (the operator's scope, narrowed)."""
    from kilnwatch.reports.catalogue import build_report
    from kilnwatch.reports.render import render

    s = settings()
    with command_session(s) as session:
        doc = build_report(
            session, SYSTEM, name, period, timezone=s.timezone, city=city, enterprise=enterprise
        )
        rendered = render(doc, fmt, _lang(lang))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(rendered.content)
    console.print(f"{name} {period}: {len(rendered.content):,} bytes -> {out}")


def _city_report(name: str, help_text: str) -> None:
    """Register ``kilnwatch report NAME --period P --out FILE [--format --lang --city]`` for a
    catalogue report whose only scope option is the city (one command shape, one definition)."""

    def command(
        period: PeriodOpt,
        out: OutOpt,
        fmt: FormatOpt = "xlsx",
        lang: LangOpt = "zh-CN",
        city: CityOpt = None,
    ) -> None:
        write_report(name, period, fmt, out, lang, city, None)

    app.command(name, help=help_text)(command)


_city_report(
    "monthly",
    "The monthly statistical analysis (energy, coal, electricity, CO2, intensities, levels, "
    "findings) by city and industry against last year, 2020 and the 2025 targets.",
)


@app.command("enterprise")
def enterprise_profile(
    period: PeriodOpt,
    enterprise: Annotated[str, typer.Option("--enterprise", help="Enterprise USCC.")],
    out: OutOpt,
    fmt: FormatOpt = "pdf",
    lang: LangOpt = "zh-CN",
) -> None:
    """An enterprise's one-page profile."""
    write_report("enterprise", period, fmt, out, lang, None, enterprise)


@app.command("weekly")
def weekly(
    week: Annotated[Period, period_option("The ISO week (2025-W10):", "week")],
    city: Annotated[str, typer.Option("--city", help="City code, e.g. 3703.")],
    out: OutOpt,
    fmt: FormatOpt = "xlsx",
    lang: LangOpt = "zh-CN",
) -> None:
    """A city's weekly joint report of production-controlled enterprises (output, energy, coal,
    meter operation, caps, the four departments' signatures)."""
    write_report("weekly", week, fmt, out, lang, city, None)


@app.command("metering")
def metering(
    out: OutOpt,
    fmt: FormatOpt = "xlsx",
    period: Annotated[
        Period | None,
        period_option(
            "Operation period (default: this month); the census is taken on its last day or today:"
        ),
    ] = None,
    lang: LangOpt = "zh-CN",
    city: CityOpt = None,
) -> None:
    """The metering census (GB 17167): one row per enterprise, carrier and level with required,
    installed and configuration rate; gaps, meter operation and roll-out by city."""
    from zoneinfo import ZoneInfo

    from kilnwatch.domain.periods import Period as _Period

    zone = ZoneInfo(settings().timezone)
    chosen = period or _Period.containing("month", datetime.now(zone).date(), zone)
    write_report("metering", chosen, fmt, out, lang, city, None)


@app.command("emissions")
def emissions(
    period: PeriodOpt,
    out: OutOpt,
    fmt: FormatOpt = "xlsx",
    lang: LangOpt = "zh-CN",
    city: CityOpt = None,
    enterprise: EnterpriseOpt = None,
) -> None:
    """Pollutant emissions and water: SO2, NOx and particulate matter by enterprise and stack,
    valid-data share, exceedances, water withdrawal against the quotas (docs/emissions.md)."""
    write_report("emissions", period, fmt, out, lang, city, enterprise)


_city_report(
    "programme",
    "The efficiency programme: stages of every unit, share at benchmark by month, leaders, "
    "the elimination list and plans that slip (docs/programme.md).",
)
_city_report(
    "inspections",
    "The half-yearly joint inspection summary (e.g. --period 2025H1): round progress, every "
    "visit with its checklist outcome, checks that did not match the platform.",
)
_city_report(
    "supervision",
    "Supervision work of the period: items opened, closed, overdue and escalated by city, "
    "penalties and quota deductions, quota balances, joint inspection progress.",
)


@app.command("efficiency")
def efficiency(
    period: PeriodOpt, by: By = "unit", as_json: JsonOpt = False, lang: LangOpt = "zh-CN"
) -> None:
    """Unit product energy consumption and class against the benchmark/baseline levels."""
    accounts, groups = _compute(period, by)
    if as_json:
        rows = [asdict(a) for a in accounts] if by == "unit" else [asdict(g) for g in groups]
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if by == "unit":
        _print(efficiency_units_table(accounts, period.label), lang)
    else:
        _print(efficiency_groups_table(groups, by, period.label), lang)


@app.command("carbon")
def carbon(
    period: PeriodOpt, by: By = "unit", as_json: JsonOpt = False, lang: LangOpt = "zh-CN"
) -> None:
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
    _print(carbon_table(accounts, groups, by, period.label), lang)


@app.command("intensity")
def intensity(
    period: PeriodOpt,
    # Typer parses the default text like a given one
    base: Annotated[Period, period_option("Base period:", field="base")] = "2020",  # type: ignore[assignment]
    by: Annotated[str, typer.Option(help="enterprise, city, industry or province")] = "city",
    as_json: JsonOpt = False,
    lang: LangOpt = "zh-CN",
) -> None:
    """Energy and carbon intensity per 10^4 CNY revenue against a base period."""
    if by not in ("enterprise", "city", "industry", "province"):
        raise typer.BadParameter("use enterprise, city, industry or province", param_hint="--by")
    with command_session() as session:
        rows = intensity_rows(session, SYSTEM, period, base, by)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
        return
    _print(intensity_table(rows, by, period.label, base.label), lang)
