"""``kilnwatch simulate``: write a synthetic province, or stream one to ingestion."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kilnwatch.errors import ConfigError
from kilnwatch.sim.config import SimParams, parse_interval_min
from kilnwatch.sim.run import SimSummary, simulate_to_dir
from kilnwatch.sim.stream import stream as stream_readings

app = typer.Typer(help="Synthetic province simulator (demo, tests, benchmarks, training).")
console = Console()


def _params(
    seed: int, enterprises: int, start: str, days: int, interval: str, fmt: str,
    **variants: float,
) -> SimParams:  # fmt: skip
    try:
        start_on = date.fromisoformat(start)
        return SimParams(
            seed=seed,
            enterprises=enterprises,
            start=start_on,
            days=days,
            interval_min=parse_interval_min(interval),
            output_format=fmt,
            **variants,
        )
    except (ValueError, ConfigError) as exc:
        raise typer.BadParameter(str(exc)) from exc


def _generate(params: SimParams, out: Path, quiet: bool) -> SimSummary:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=quiet) as bar:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = int(bar.add_task(stage, total=total))
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        return simulate_to_dir(params, out, progress=report)


@app.callback(invoke_without_command=True)
def generate(
    ctx: typer.Context,
    seed: int = typer.Option(1, help="random seed; one seed gives byte-identical files"),
    enterprises: int = typer.Option(60, min=1, help="number of enterprises"),
    start: str = typer.Option("2025-01-01", help="first simulated day (YYYY-MM-DD)"),
    days: int = typer.Option(30, min=1, help="number of simulated days"),
    interval: str = typer.Option("15min", help="reading interval, e.g. 15min, 5min, 1h"),
    out: Path | None = typer.Option(None, help="output directory"),
    fmt: str = typer.Option("both", "--format", help="readings as csv, parquet or both"),
    quiet: bool = typer.Option(False, help="no progress bars"),
    into_db: bool = typer.Option(
        False, "--into-db", help="also import everything into the database and verify it"
    ),
    smoothed_meters: float = typer.Option(
        0.0, min=0, max=1, help="share of enterprises with an entry meter reporting its daily "
        "moving average for weeks (labelled meter_smoothed)",
    ),
    underpriced_sales: float = typer.Option(
        0.0, min=0, max=1, help="share of enterprises invoicing one month's sales 5-8 %% below "
        "their usual price (labelled revenue_underpriced)",
    ),
    sales_price_spread: float = typer.Option(
        0.0, min=0, max=0.5, help="half-width of each enterprise's own price level relative "
        "to the market (contracts, grades)",
    ),
    price_history_months: int = typer.Option(
        0, min=0, max=36, help="months before --start with sales invoices and market prices",
    ),
    start_stamped_meters: float = typer.Option(
        0.0, min=0, max=1, help="share of interval/counter meters exported with interval-start "
        "stamps (column ts_convention = start)",
    ),
    stock_reporting: float = typer.Option(
        0.7, min=0, max=1, help="share of enterprises reporting coal/coke stocks",
    ),
    meter_replacements: float = typer.Option(
        0.0, min=0, max=1, help="share of counters replaced (register restarts near zero)",
    ),
    silent_meters: float = typer.Option(
        0.0, min=0, max=1, help="share of meters that fall silent for good",
    ),
) -> None:  # fmt: skip
    """Write a synthetic province (registry, readings, other sources, retrofits, labels);
    the modelling variants (smoothed meters, underpriced sales, price history, start-stamped
    exports, stock reporting, meter replacements, silent meters) default to the plain
    province."""
    if ctx.invoked_subcommand is not None:
        return
    if out is None and not into_db:
        raise typer.BadParameter("--out is required", param_hint="--out")
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="kilnwatch-sim-"))
    if fmt not in ("csv", "parquet", "both"):
        raise typer.BadParameter("--format must be csv, parquet or both", param_hint="--format")
    variants = {
        "smoothed_meter_fraction": smoothed_meters,
        "underpriced_sales_fraction": underpriced_sales,
        "sales_price_spread": sales_price_spread,
        "price_history_months": price_history_months,
        "start_stamped_meter_fraction": start_stamped_meters,
        "stock_reporting_fraction": stock_reporting,
        "meter_replacement_fraction": meter_replacements,
        "silent_meter_fraction": silent_meters,
    }
    params = _params(seed, enterprises, start, days, interval, fmt, **variants)
    summary = _generate(params, out, quiet)
    typer.echo(
        f"{summary.enterprises} enterprises, {summary.units} units, {summary.meters} meters, "
        f"{summary.readings_rows} readings, {summary.faults} labelled faults, "
        f"{summary.retrofits} retrofits in {summary.elapsed_s:.1f} s -> {out}"
    )
    if into_db:
        from kilnwatch.cli._common import settings
        from kilnwatch.cli.demo import load_province

        load_province(settings(), out, date.fromisoformat(start), days)


@app.command("stream")
def stream_cmd(
    to: str = typer.Option(
        ..., "--to", help="mqtt://host:port, http://host:port or hj212://host:port"
    ),
    source: Path | None = typer.Option(None, "--from", help="a simulated directory to play"),
    rate: float = typer.Option(
        0.0, min=0.0, help="readings (frames for hj212) per second; 0 = as fast as possible"
    ),
    speedup: float | None = typer.Option(
        None, min=0.0, help="simulated seconds per wall-clock second"
    ),
    limit: int | None = typer.Option(None, min=1, help="stop after this many readings"),
    seed: int = typer.Option(1, help="seed when simulating on the fly (no --from)"),
    enterprises: int = typer.Option(5, min=1),
    start: str | None = typer.Option(None, help="first simulated day (default: today)"),
    days: int = typer.Option(1, min=1),
    interval: str = typer.Option("15min"),
) -> None:
    """Play readings to ingestion (simulates a small province first unless --from is given)."""
    with tempfile.TemporaryDirectory(prefix="kilnwatch-sim-") as tmp:
        if source is None:
            source = Path(tmp)
            first = start or datetime.now().date().isoformat()
            _generate(_params(seed, enterprises, first, days, interval, "csv"), source, True)
        try:
            summary = stream_readings(source, to, rate=rate, speedup=speedup, limit=limit)
        except ConfigError as exc:
            raise typer.BadParameter(exc.message, param_hint="--to") from exc
    typer.echo(
        f"sent {summary.readings} readings in {summary.messages} messages "
        f"({summary.errors} errors) in {summary.elapsed_s:.1f} s"
    )
    if summary.errors:
        raise typer.Exit(code=1)
