"""``kilnwatch calc``: standard-coal conversion, efficiency-level classification, key lists.

Each command parses its arguments, calls one domain function and prints the result (rich
tables, or one JSON object with ``--json``). Errors print ``error [code]: message`` on stderr
and exit with status 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from kilnwatch.domain.energy import (
    ElectricityBasis,
    carrier_keys,
    energy_kgce,
    kgce_per_kgoe,
    refinery_intensity,
)
from kilnwatch.domain.levels import Classification, classify
from kilnwatch.errors import InputError, KilnwatchError
from kilnwatch.reference.energy import load_coal_coefficients
from kilnwatch.reference.levels import (
    LevelTable,
    load_fields,
    load_level_tables,
    read_provincial_tables,
)

app = typer.Typer(
    help="Energy & carbon calculations: standard coal (GB/T 2589) and efficiency levels.",
    no_args_is_help=True,
)

DECIMALS = 4
ERROR_EXIT = 2
NO_CONFIRMED_LEVEL = "no confirmed level"
BASES: dict[str, ElectricityBasis] = {"equivalent": "equivalent", "equal": "equal"}

JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _emit_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False))


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    try:
        yield
    except KilnwatchError as exc:
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(ERROR_EXIT) from exc


@app.command("tce")
def tce_command(
    carrier: str = typer.Argument(..., help="Carrier key, e.g. raw_coal (see `calc list`)."),
    quantity: float = typer.Argument(..., help="Physical quantity, >= 0."),
    unit: str = typer.Argument(..., help="Unit key: t, kg, m3, 10^4m3, kWh, MWh, GJ ..."),
    as_json: bool = JsonOption,
    lhv: float | None = typer.Option(
        None, "--lhv", help="Measured low heat value [kJ per the carrier's reference unit]."
    ),
    basis: str = typer.Option(
        "equivalent", help="Electricity basis: equivalent (当量值) or equal (等价值)."
    ),
    year: int | None = typer.Option(None, help="Year of the 等价值."),
    equal_value: float | None = typer.Option(None, help="Explicit 等价值 [kgce/kWh]."),
) -> None:
    """Convert a carrier quantity to kgce and tce (GB/T 2589)."""
    with _errors_to_exit():
        if basis not in BASES:
            raise InputError(f"basis must be equivalent or equal, got {basis!r}", field="basis")
        result = energy_kgce(
            carrier,
            quantity,
            unit,
            measured_lhv_kj_per_unit=lhv,
            electricity_basis=BASES[basis],
            year=year,
            equal_value_kgce_per_kwh=equal_value,
        )
    payload = {
        "carrier": result.carrier,
        "quantity": result.quantity,
        "unit": result.unit,
        "kgce": _round(result.kgce),
        "tce": _round(result.tce),
        "coefficient": result.coefficient,
        "coefficient_unit": result.coefficient_unit,
        "method": result.method,
        "basis": result.basis,
        "source": result.source,
        "confidence": result.confidence,
    }
    if as_json:
        _emit_json(payload)
        return
    table = Table(title=f"{carrier} {quantity:g} {unit}", show_header=False)
    for key, value in payload.items():
        table.add_row(key, "" if value is None else str(value))
    Console().print(table)


def _tables(provincial_dir: Path | None) -> tuple[LevelTable, ...]:
    extra = read_provincial_tables(provincial_dir) if provincial_dir is not None else ()
    return (*load_level_tables(), *extra)


def _level_payload(c: Classification) -> dict[str, Any]:
    levels = [
        {
            "table": d.table_id,
            "kind": d.kind,
            "level": d.level,
            "value": d.value,
            "unit": d.unit,
            "met": d.met,
            "gap": _round(d.gap),
            "gap_tce_per_year": _round(d.gap_tce_per_year),
            "confidence": d.confidence,
            "source": d.source,
        }
        for d in c.levels
    ]
    tables = [
        {
            "table": v.table_id,
            "kind": v.kind,
            "edition_year": v.edition_year,
            "status": v.status if v.status != "no_confirmed_level" else NO_CONFIRMED_LEVEL,
            "class": v.class_,
            "variant": v.variant,
            "variants": list(v.variants),
            "confidence": v.confidence,
            "notes": v.notes,
        }
        for v in c.verdicts
    ]
    return {
        "field": c.field,
        "value": c.value,
        "unit": c.unit,
        "variant": c.variant,
        "class": c.class_,
        "class_table": c.class_table,
        "class_basis": c.class_basis,
        "legal_breach": c.legal_breach,
        "no_confirmed_level": c.no_confirmed_level,
        "levels": levels,
        "tables": tables,
    }


def _print_levels(payload: dict[str, Any]) -> None:
    console = Console()
    title = f"{payload['field']} = {payload['value']:g} {payload['unit']}"
    table = Table(title=title)
    for column in ("table", "status", "class", "levels"):
        table.add_column(column)
    for verdict in payload["tables"]:
        levels = [lv for lv in payload["levels"] if lv["table"] == verdict["table"]]
        text = ", ".join(f"{lv['level']} {lv['value']:g} ({lv['confidence']})" for lv in levels)
        if verdict["variants"]:
            text = "variants: " + ", ".join(verdict["variants"])
        table.add_row(verdict["table"], verdict["status"], verdict["class"] or "-", text or "-")
    console.print(table)
    if payload["no_confirmed_level"]:
        console.print(f"{payload['field']}: {NO_CONFIRMED_LEVEL}")
    elif payload["class"] is None:
        console.print("no class: pass --variant (see the variants listed)")
    else:
        console.print(f"class: {payload['class']} (from {payload['class_table']})")
    if payload["legal_breach"]:
        console.print("worse than GB grade 3: the legal limit is breached")


@app.command("level", context_settings={"ignore_unknown_options": True})
def level_command(
    field: str = typer.Argument(..., help="Field key, e.g. cement_clinker (see `calc list`)."),
    value: float = typer.Argument(..., help="Intensity in the field's unit."),
    as_json: bool = JsonOption,
    variant: str | None = typer.Option(None, help="Sub-type, e.g. ultra_supercritical_1000mw."),
    output_per_year: float | None = typer.Option(
        None, help="Annual output [field unit denominator/a], for gaps in tce/a."
    ),
    provincial_dir: Path | None = typer.Option(
        None, help="Directory of provincial level tables (*.csv) to add."
    ),
    energy_factor: float | None = typer.Option(
        None,
        "--energy-factor",
        help="A refinery's energy factor (能量因数, GB 30251-2024): VALUE is then the energy "
        "per tonne of crude in --value-unit, divided by the factor for the level.",
    ),
    value_unit: str = typer.Option(
        "kgoe/t", "--value-unit", help="With --energy-factor: kgoe/t or kgce/t."
    ),
) -> None:
    """Classify an intensity against every level table having the field."""
    with _errors_to_exit():
        per_factor = _per_energy_factor(field, value, energy_factor, value_unit)
        result = classify(
            field,
            value if per_factor is None else per_factor["intensity"],
            variant=variant,
            output_per_year=output_per_year,
            tables=_tables(provincial_dir),
        )
    payload = _level_payload(result)
    if per_factor is not None:
        payload["energy_factor"] = per_factor
    if as_json:
        _emit_json(payload)
    else:
        if per_factor is not None:
            Console().print(
                f"{value:g} {value_unit} / energy factor {energy_factor:g} = "
                f"{per_factor['intensity']:.4f} {result.unit} "
                f"(1 kgoe = {per_factor['kgce_per_kgoe']:.4f} kgce, {per_factor['confidence']})"
            )
        _print_levels(payload)


def _per_energy_factor(
    field: str, value: float, energy_factor: float | None, value_unit: str
) -> dict[str, Any] | None:
    """The refinery indicator from energy per tonne of crude and the energy factor."""
    unit = load_fields()[field].unit if field in load_fields() else ""
    if energy_factor is None:
        return None
    if "energy_factor" not in unit:
        raise InputError(f"{field} is not judged per energy factor", field="energy_factor")
    factor, grade = kgce_per_kgoe()
    per_t = {"kgoe/t": factor, "kgce/t": 1.0}
    if value_unit not in per_t:
        raise InputError("value-unit must be kgoe/t or kgce/t", field="value_unit")
    intensity = refinery_intensity(value * per_t[value_unit], 1.0, energy_factor)
    return {
        "value_per_t": value,
        "value_unit": value_unit,
        "energy_factor": energy_factor,
        "kgce_per_kgoe": factor,
        "confidence": grade,
        "intensity": intensity,
    }


def _field_rows(tables: tuple[LevelTable, ...]) -> list[dict[str, Any]]:
    rows = []
    for key, definition in load_fields().items():
        with_values = sorted(
            {t.table_id for t in tables for r in t.rows if r.field == key and r.has_values}
        )
        policy = [t for t in with_values if not t.startswith("GB")]
        rows.append(
            {
                "field": key,
                "unit": definition.unit,
                "indicator_zh": definition.indicator_zh,
                "lower_is_better": definition.lower_is_better,
                "tables_with_values": with_values,
                "ndrc_or_provincial": policy or NO_CONFIRMED_LEVEL,
                "status": "confirmed" if with_values else NO_CONFIRMED_LEVEL,
            }
        )
    return rows


def _carrier_rows() -> list[dict[str, Any]]:
    rows = load_coal_coefficients()
    return [
        {
            "carrier": key,
            "units": [r.unit for r in rows if r.carrier == key],
            "kgce_per_unit": [r.kgce_per_unit for r in rows if r.carrier == key],
            "confidence": [r.confidence for r in rows if r.carrier == key],
        }
        for key in carrier_keys(rows)
    ]


def _render(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _print_list(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_render(row[c]) for c in columns))
    Console().print(table)


@app.command("list")
def list_command(
    as_json: bool = JsonOption,
    provincial_dir: Path | None = typer.Option(None, help="Also read provincial tables."),
) -> None:
    """List carrier keys and efficiency field keys."""
    with _errors_to_exit():
        fields = _field_rows(_tables(provincial_dir))
    carriers = _carrier_rows()
    if as_json:
        _emit_json({"carriers": carriers, "fields": fields})
        return
    _print_list("carriers", carriers, ["carrier", "units", "kgce_per_unit", "confidence"])
    _print_list("fields", fields, ["field", "unit", "ndrc_or_provincial", "tables_with_values"])
