"""``kilnwatch mapping``: saved column mappings of existing systems' exports (docs/mappings.md).

``guess`` drafts a mapping from a sample file, ``save`` checks and stores it under a name,
``preview`` shows the readings a file gives, ``apply`` imports a file through it (in one
transaction, all-or-nothing unless ``--skip-invalid``), ``list``/``show``/``delete``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kilnwatch.cli._common import SYSTEM, command_session, console, exit_on_error, settings
from kilnwatch.cli.imports import EncodingOpt, SkipInvalid
from kilnwatch.errors import InputError

app = typer.Typer(help="Saved column mappings of other systems' exports.", no_args_is_help=True)
FileArg = Annotated[Path, typer.Argument(help="An export: CSV (any encoding), XLSX or JSON.")]


def _spec_file(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"not a JSON mapping: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("a mapping is a JSON object", file=str(path))
    return data


@app.command("guess")
def guess_cmd(
    path: FileArg, unit: Annotated[str, typer.Option(help="Unit of wide columns.")] = "kWh"
) -> None:
    """Print a draft mapping (JSON) from a sample file's header, to edit and ``save``."""
    from kilnwatch.ingest.mappings import MappingSpec, guess_spec, read_source

    with exit_on_error():
        table = read_source(path, MappingSpec(ts_column=""))
    typer.echo(json.dumps(guess_spec(table.columns, unit), ensure_ascii=False, indent=2))


@app.command("save")
def save_cmd(
    name: Annotated[str, typer.Argument(help="The mapping's name (one per source).")],
    spec: Annotated[Path, typer.Argument(help="The mapping as JSON (docs/mappings.md).")],
    source: Annotated[str, typer.Option(help="The system and plant it is for.")] = "",
) -> None:
    """Check a mapping and save it (a mapping of the same name is replaced)."""
    from kilnwatch.ingest.mappings import save_spec

    with command_session() as session:
        save_spec(session, name, source, _spec_file(spec), SYSTEM.subject)
    console.print(f"mapping {name} saved")


@app.command("list")
def list_cmd() -> None:
    """The saved mappings."""
    from kilnwatch.store.repos.mappings import list_mappings

    table = Table("name", "source", "updated", "last applied")
    with command_session() as session:
        for m in list_mappings(session):
            applied = m.last_applied_at.isoformat(timespec="seconds") if m.last_applied_at else ""
            table.add_row(m.name, m.source, m.updated_at.isoformat(timespec="seconds"), applied)
    console.print(table)


@app.command("show")
def show_cmd(name: str) -> None:
    """A saved mapping as JSON."""
    from kilnwatch.store.repos.mappings import get_mapping

    with command_session() as session:
        spec = get_mapping(session, name).spec
    typer.echo(json.dumps(spec, ensure_ascii=False, indent=2))


@app.command("delete")
def delete_cmd(name: str) -> None:
    """Delete a saved mapping (readings imported through it stay)."""
    from kilnwatch.store.repos.mappings import delete_mapping

    with command_session() as session:
        delete_mapping(session, name)
    console.print(f"mapping {name} deleted")


@app.command("preview")
def preview_cmd(
    name: str,
    path: FileArg,
    rows: Annotated[int, typer.Option(help="Source rows to show.", min=1)] = 10,
    encoding: EncodingOpt = None,
) -> None:
    """The readings the first rows of a file give through a saved mapping (nothing stored)."""
    from kilnwatch.ingest.mappings import preview_mapping, saved_spec

    s = settings()
    with exit_on_error():
        with command_session(s) as session:
            spec = saved_spec(session, name)
        table, chunk = preview_mapping(spec, path, s.timezone, rows=rows, encoding=encoding)
    out = Table("row", "meter_code", "ts", "value", "unit", "flag", title=table.file)
    for r in chunk.frame.iter_rows(named=True):
        out.add_row(str(r["row_no"]), r["meter_code"], r["ts"].isoformat(), r["value"],
                    r["unit"] or "", r["flag"] or "")  # fmt: skip
    console.print(out)
    for fault in chunk.faults:
        console.print(f"[yellow]{fault.message}[/yellow]", highlight=False)


@app.command("apply")
def apply_cmd(
    name: str, path: FileArg, skip_invalid: SkipInvalid = False, encoding: EncodingOpt = None
) -> None:
    """Import a file through a saved mapping; all-or-nothing unless --skip-invalid."""
    from kilnwatch.ingest.mappings import import_with_mapping
    from kilnwatch.ingest.validate import ValidationPolicy

    s = settings()
    with command_session(s) as session:
        report = import_with_mapping(
            session, name, path, policy=ValidationPolicy(local_tz=s.timezone),
            skip_invalid=skip_invalid, encoding=encoding,
        )  # fmt: skip
    if report.encoding:
        console.print(f"{path.name}: encoding {report.encoding}")
    console.print(
        f"{report.source_rows} source rows -> {report.readings} readings: {report.accepted} "
        f"stored ({report.corrections} corrections), {report.duplicates} duplicates, "
        f"{report.rejected} rejected"
    )
    for fault in report.faults:
        console.print(f"  [yellow]{fault.message}[/yellow]", highlight=False)
