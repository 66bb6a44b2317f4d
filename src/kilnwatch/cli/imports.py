"""``kilnwatch import registry|sources|metering|permits|projects|readings``: data files into
the store (docs/formats.md, docs/metering.md, docs/emissions.md, docs/projects.md).

Each command imports in one transaction, committed at the end: all-or-nothing (every fault
printed as ``FILE, row N, field 'X': reason``, exit code 2, nothing stored) unless
``--skip-invalid``. Then the valid rows are stored; rejected registry and source rows are
written to a rejects file, rejected readings go to the dead letters.
"""

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from kilnwatch.cli._common import command_session, console, counting_rows, exit_on_error, settings
from kilnwatch.errors import KilnwatchError
from kilnwatch.formats import (
    EXTERNAL_SOURCE_FORMATS,
    METERING_FORMATS,
    PROJECT_CONTROL_FORMATS,
    REGISTRY_FORMATS,
)
from kilnwatch.ingest.tables import TableImportReport, TextEncoding, named_encoding, write_rejects
from kilnwatch.ingest.tables.text import ENCODING_HELP
from kilnwatch.ingest.validate import ValidationPolicy

app = typer.Typer(help="Import data files (formats: docs/formats.md).", no_args_is_help=True)

SkipInvalid = Annotated[
    bool, typer.Option("--skip-invalid", help="Import the valid rows; write the rest to a file.")
]
Rejects = Annotated[Path | None, typer.Option(help="Where rejected rows go (with --skip-invalid).")]


def _encoding(name: str) -> TextEncoding:
    try:
        return named_encoding(name)
    except KilnwatchError as exc:
        raise typer.BadParameter(str(exc)) from None


EncodingOpt = Annotated[
    TextEncoding | None,
    typer.Option(
        "--encoding", parser=_encoding, metavar="NAME",
        help=f"Text encoding of CSV files (default: detected): {ENCODING_HELP}.",
    ),
]  # fmt: skip


def _import_tables(
    run: Callable[[Session], TableImportReport], path: Path, rejects: Path | None
) -> None:
    """Run a table import in one committed transaction and report it; rejected rows go to
    ``rejects`` (default: ``<name>.rejected.csv`` beside ``path``)."""
    with command_session() as session:
        report = run(session)
    for file, encoding in report.encodings.items():
        console.print(f"{file}: encoding {encoding}")
    for kind, created in report.created.items():
        console.print(f"{kind}: {created} created, {report.updated[kind]} updated")
    if report.rejected:
        out = rejects or path.with_name(f"{path.stem}.rejected.csv")
        write_rejects(report.rejected, out)
        console.print(f"[yellow]{len(report.rejected)} fault(s)[/yellow]; rejected rows: {out}")


def _table_import(
    name: str,
    target: str,
    path_help: str,
    formats: Iterable[str],
    doc: str,
    *,
    zone: bool = False,
) -> None:
    """Register ``kilnwatch import NAME PATH [--skip-invalid] [--kind K] [--rejects FILE]
    [--encoding E]``: the table imports whose files say their kind by their name (one command
    shape, one definition). ``target`` is the importer, ``module:function``, loaded when the
    command runs; it takes ``(session, path, *, kind, skip_invalid, encoding)`` and, with
    ``zone``, the platform's time zone (files whose dates are local days)."""

    def command(
        path: Annotated[Path, typer.Argument(help=path_help)],
        skip_invalid: SkipInvalid = False,
        kind: Annotated[
            str | None, typer.Option(help=f"{', '.join(formats)} (when the name does not say)")
        ] = None,
        rejects: Rejects = None,
        encoding: EncodingOpt = None,
    ) -> None:
        module, _, function = target.partition(":")
        importer = getattr(importlib.import_module(module), function)
        options: dict[str, Any] = {"kind": kind, "skip_invalid": skip_invalid, "encoding": encoding}
        if zone:
            options["zone"] = settings().zone
        _import_tables(lambda session: importer(session, path, **options), path, rejects)

    app.command(name, help=doc)(command)


_table_import(
    "registry",
    "kilnwatch.ingest.registry:import_registry",
    "A registry file (CSV/XLSX) or a folder of them.",
    REGISTRY_FORMATS,
    "Import regions, enterprises, units, projects, gateways and meters.",
)
_table_import(
    "sources",
    "kilnwatch.ingest.external_sources:import_sources",
    "A source file (CSV/XLSX) or a folder of them.",
    EXTERNAL_SOURCE_FORMATS,
    "Import statistical reports, tax invoices, logistics, grid totals and market prices.",
)


@app.command("permits")
def import_permits_cmd(
    path: Annotated[Path, typer.Argument(help="A permits file (CSV/XLSX), docs/emissions.md.")],
    skip_invalid: SkipInvalid = False,
    rejects: Rejects = None,
    encoding: EncodingOpt = None,
) -> None:
    """Import pollutant discharge permits (排污许可证): permitted concentration and annual
    quantity per stack and pollutant."""
    from kilnwatch.ingest.permits import import_permits

    def run(session: Session) -> TableImportReport:
        return import_permits(session, path, skip_invalid=skip_invalid, encoding=encoding)

    _import_tables(run, path, rejects)


_table_import(
    "metering",
    "kilnwatch.metering.imports:import_metering",
    "A census file (CSV/XLSX) or a folder of them.",
    METERING_FORMATS,
    "Import the metering census: metering points and calibration certificates.",
)


@app.command("readings")
def import_readings(
    path: Annotated[Path, typer.Argument(help="A readings CSV or Parquet file.")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Store valid rows; dead-letter the rest.")
    ] = False,
    chunk_rows: Annotated[int, typer.Option(help="Rows per chunk.", min=1)] = 250_000,
    encoding: EncodingOpt = None,
    ts_convention: Annotated[
        str,
        typer.Option(
            help="What ts stamps in rows without a ts_convention column value: the END of "
            "each reading's interval (default) or its START (many meter exports); start "
            "stamps are stored at the interval's end."
        ),
    ] = "end",
) -> None:
    """Import readings (docs/formats.md); all-or-nothing unless --skip-invalid."""
    from kilnwatch.ingest.readings_file import import_readings_file
    from kilnwatch.ingest.stamps import convention_of

    s = settings()
    policy = ValidationPolicy(local_tz=s.timezone)
    with exit_on_error():
        with counting_rows(path.name) as advance, command_session(s) as session:
            report = import_readings_file(
                session, path, skip_invalid=skip_invalid, chunk_rows=chunk_rows, policy=policy,
                on_progress=advance, encoding=encoding,
                ts_convention=convention_of(ts_convention),
            )  # fmt: skip
    if report.encoding is not None:
        console.print(f"{path.name}: encoding {report.encoding}")
    if report.moved_to_interval_end:
        console.print(
            f"{report.moved_to_interval_end} rows stamped at their interval's start, stored at "
            "its end"
        )
    console.print(
        f"{report.rows} rows: {report.accepted} stored ({report.corrections} corrections), "
        f"{report.duplicates} duplicates, {report.rejected} rejected"
    )
    for code, n in sorted(report.reasons.items()):
        console.print(f"  [yellow]{code}[/yellow]: {n} (see GET /api/v1/ingest/dead-letters)")


_table_import(
    "projects",
    "kilnwatch.ingest.project_control:import_project_control",
    "A project control file (CSV/XLSX) or a folder.",
    PROJECT_CONTROL_FORMATS,
    "Import project details, approvals, replacement and substitution ledgers, production caps "
    "and resident supervisors (docs/projects.md).",
    zone=True,
)
