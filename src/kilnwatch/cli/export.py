"""``kilnwatch export readings|rollups|findings|credibility``: streamed CSV or Parquet."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from kilnwatch.cli._common import SYSTEM, console, fail, session_scope, settings
from kilnwatch.domain.periods import local_instant
from kilnwatch.errors import InputError, KilnwatchError

CityOpt = Annotated[
    str | None, typer.Option("--city", help="Region code or prefix: 3703, 370305, 37.")
]
IndustryOpt = Annotated[str | None, typer.Option(help="Industry key (cement, steel …).")]
EnterpriseOpt = Annotated[str | None, typer.Option(help="Enterprise USCC.")]
MeterOpt = Annotated[str | None, typer.Option(help="Meter code.")]
StartOpt = Annotated[str, typer.Option(help="First instant: 2025-01-01 or ISO 8601 (local).")]
EndOpt = Annotated[str, typer.Option(help="End instant (exclusive).")]
FormatOpt = Annotated[str, typer.Option("--format", help="csv or parquet")]
OutOpt = Annotated[Path, typer.Option("--out", help="File to write.")]


def parse_instant(text: str, tz: str, name: str) -> datetime:
    """``2025-01-01`` (local midnight), or ISO 8601 (local when it has no offset)."""
    try:
        value = datetime.fromisoformat(text) if "T" in text else None
        if value is None:
            d = date.fromisoformat(text)
            value = datetime(d.year, d.month, d.day)
    except ValueError:
        raise InputError(f"{text!r} is not a date or ISO 8601 time", field=name) from None
    return local_instant(value, ZoneInfo(tz))


def run_export(
    kind: str,
    out: Path,
    fmt: str,
    start: str,
    end: str,
    *,
    city: str | None = None,
    industry: str | None = None,
    enterprise: str | None = None,
    meter: str | None = None,
    grain: str = "hour",
    archive: Path | None = None,
) -> None:
    from kilnwatch.reports.export import ExportFilter, export_rows
    from kilnwatch.reports.export_writers import export_stream

    s = settings()
    try:
        f = ExportFilter(
            parse_instant(start, s.timezone, "start"), parse_instant(end, s.timezone, "end"),
            city, industry, enterprise, meter, grain,
        )  # fmt: skip
        out.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with session_scope(s) as session, out.open("wb") as sink:
            rows = export_rows(session, SYSTEM, kind, f, archive=archive)
            for data in export_stream(rows, fmt):
                sink.write(data)
                size += len(data)
    except KilnwatchError as exc:
        out.unlink(missing_ok=True)  # no half-written file
        raise fail(exc) from exc
    console.print(f"{kind}: {size:,} bytes -> {out}")


def readings(
    start: StartOpt, end: EndOpt, out: OutOpt, fmt: FormatOpt = "csv", city: CityOpt = None,
    industry: IndustryOpt = None, enterprise: EnterpriseOpt = None, meter: MeterOpt = None,
    archive: Annotated[Path | None, typer.Option(
        help="Folder of a readings archive (kilnwatch db archive): its months too.")] = None,
) -> None:  # fmt: skip
    """Readings (latest version of each) with their meter, enterprise, unit and source; with
    ``--archive DIR`` also those of the archived months."""
    run_export("readings", out, fmt, start, end, city=city, industry=industry,
               enterprise=enterprise, meter=meter, archive=archive)  # fmt: skip


def rollups(
    start: StartOpt, end: EndOpt, out: OutOpt, fmt: FormatOpt = "csv", city: CityOpt = None,
    industry: IndustryOpt = None, enterprise: EnterpriseOpt = None, meter: MeterOpt = None,
    grain: Annotated[str, typer.Option(help="hour, day or month")] = "day",
) -> None:  # fmt: skip
    """Per-meter rollups (sum, count, min, max, unit) of one grain."""
    run_export("rollups", out, fmt, start, end, city=city, industry=industry,
               enterprise=enterprise, meter=meter, grain=grain)  # fmt: skip


def findings(
    start: StartOpt, end: EndOpt, out: OutOpt, fmt: FormatOpt = "csv", city: CityOpt = None,
    industry: IndustryOpt = None, enterprise: EnterpriseOpt = None, meter: MeterOpt = None,
) -> None:  # fmt: skip
    """Verification findings that start in the range."""
    run_export("findings", out, fmt, start, end, city=city, industry=industry,
               enterprise=enterprise, meter=meter)  # fmt: skip


def credibility(
    start: StartOpt, end: EndOpt, out: OutOpt, fmt: FormatOpt = "csv", city: CityOpt = None,
    industry: IndustryOpt = None, enterprise: EnterpriseOpt = None,
) -> None:  # fmt: skip
    """Monthly credibility scores of the months in the range."""
    run_export("credibility", out, fmt, start, end, city=city, industry=industry,
               enterprise=enterprise)  # fmt: skip


def register(export_app: typer.Typer) -> None:
    for command in (readings, rollups, findings, credibility):
        export_app.command(command.__name__)(command)
