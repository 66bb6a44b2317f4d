"""``kilnwatch emissions …``: pollutant quantities, valid data and exceedances of a period
(docs/emissions.md); the same figures as the API and the emissions report."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

import typer
from rich.table import Table

from kilnwatch.cli._common import SYSTEM, command_session, console, period_option
from kilnwatch.domain.periods import Period


class _JsonRow(Protocol):
    def as_json(self) -> dict[str, Any]: ...


_Row = TypeVar("_Row", bound=_JsonRow)

app = typer.Typer(help="Pollutant emissions and water.", no_args_is_help=True)

PeriodOpt = Annotated[Period, period_option("The period:")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
CityOpt = Annotated[str | None, typer.Option("--city", help="City code, e.g. 3703.")]
EnterpriseOpt = Annotated[str | None, typer.Option("--enterprise", help="Enterprise USCC.")]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rows(
    service: Callable[..., list[_Row]], period: Period, city: str | None,
    enterprise: str | None, as_json: bool,
) -> list[_Row] | None:  # fmt: skip
    """The rows of ``service`` for the scope; printed as one JSON document (and None
    returned) with ``--json``."""
    with command_session() as session:
        rows = service(session, SYSTEM, period, city=city, uscc=enterprise)
    if not as_json:
        return rows
    data = {"period": period.label, "rows": [r.as_json() for r in rows]}
    typer.echo(json.dumps(data, ensure_ascii=False))
    return None


def _print(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("quantities")
def quantities(
    period: PeriodOpt,
    by: Annotated[str, typer.Option(help="stack, enterprise, city or province")] = "enterprise",
    city: CityOpt = None,
    enterprise: EnterpriseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """SO2, NOx and particulate matter [t] (HJ 75-2017: valid hours plus substituted ones),
    the share of valid hours and the exceedance hours and days, by stack, enterprise, city or
    the province."""
    from kilnwatch.emissions.service import emissions_scope

    with command_session() as session:
        scope = emissions_scope(session, SYSTEM, period, city=city, uscc=enterprise)
        totals = scope.totals(session, by)
    if as_json:
        rows = [t.as_json() for t in totals]
        typer.echo(json.dumps({"period": period.label, "by": by, "rows": rows}, ensure_ascii=False))
        return
    table = Table(title=f"污染物排放量 {period.label}")
    for col in ("key", "name", "SO2 t", "NOx t", "PM t", "valid %", "exceed h", "exceed d"):
        table.add_column(col)
    for t in totals:
        table.add_row(
            t.key, t.name, _fmt(t.amount_t["so2"]), _fmt(t.amount_t["nox"]),
            _fmt(t.amount_t["dust"]), _fmt(t.valid_share_pct, 1), str(t.exceedance_hours),
            str(t.exceedance_days),
        )  # fmt: skip
    console.print(table)


@app.command("permits")
def permits(
    period: PeriodOpt, city: CityOpt = None, enterprise: EnterpriseOpt = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Cumulative SO2, NOx and PM from 1 January to the end of the period against each
    enterprise's permitted annual amount (排污许可证): exceeded, projected to exceed at the
    year's pace, or within (docs/emissions.md)."""
    from kilnwatch.emissions.annual import annual_permit_status

    rows = _rows(annual_permit_status, period, city, enterprise, as_json)
    if rows is None:
        return
    _print(f"许可排放量 {period.label}",
           ("enterprise", "pollutant", "permitted t", "cumulative t", "share", "code"),
           [(r.enterprise_name, r.pollutant, _fmt(r.permitted_t), _fmt(r.cumulative_t),
             f"{r.share:.1%}", r.code) for r in rows])  # fmt: skip


@app.command("wastewater")
def wastewater(
    period: PeriodOpt, city: CityOpt = None, enterprise: EnterpriseOpt = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """COD and NH3-N [kg] of every outfall (concentration × wastewater flow per valid hour;
    invalid hours counted, not substituted; docs/emissions.md)."""
    from kilnwatch.emissions.wastewater import wastewater_accounts

    rows = _rows(wastewater_accounts, period, city, enterprise, as_json)
    if rows is None:
        return
    _print(f"废水污染物 {period.label}",
           ("enterprise", "outfall", "pollutant", "kg", "valid h", "invalid h", "m3"),
           [(r.enterprise_name, r.unit_code, r.pollutant, _fmt(r.amount_kg), str(r.valid_hours),
             str(r.invalid_hours), _fmt(r.flow_m3, 0)) for r in rows])  # fmt: skip


@app.command("water")
def water(
    period: PeriodOpt, city: CityOpt = None, enterprise: EnterpriseOpt = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Water withdrawal [m3] per enterprise and unit, per product against the GB/T 18916
    quotas where one is sourced."""
    from kilnwatch.emissions.water import water_accounts

    rows = _rows(water_accounts, period, city, enterprise, as_json)
    if rows is None:
        return
    table = Table(title=f"取水量 {period.label}")
    for col in ("enterprise", "unit", "m3", "per product", "quota", "unit of quota", "above"):
        table.add_column(col)
    for r in rows:
        above = "-" if r.over_quota is None else ("yes" if r.over_quota else "no")
        table.add_row(
            r.enterprise_name, r.unit_code or "(entry)", _fmt(r.withdrawal_m3, 0),
            _fmt(r.specific_per_quota_unit), _fmt(r.quota_general), r.quota_unit or "", above,
        )  # fmt: skip
    console.print(table)
    _print(f"分水源取水量 {period.label}", ("enterprise", "unit", "source", "m3"),
           [(r.enterprise_name, r.unit_code or "(entry)", source, _fmt(m3, 0))
            for r in rows for source, m3 in r.by_source.items()])  # fmt: skip
