"""Importers of external sources (外部数据): statistical reports, tax invoices, logistics
waybills, grid electricity totals and market prices (formats: ``docs/formats.md``, "Other
sources"; columns: :data:`kilnwatch.formats.EXTERNAL_SOURCE_FORMATS`).

Same rules as every table importer (:mod:`kilnwatch.ingest.tables`): each fault is reported as
``FILE, row N, field 'X': reason``; the import is all-or-nothing unless ``skip_invalid``; rows
are upserted by their natural key (invoice number, waybill number, enterprise + period + item,
…) so re-importing a file is harmless. Nothing is committed here: the caller owns the
transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from kilnwatch.domain.energy import energy_kgce
from kilnwatch.domain.units import convert, dimension_of
from kilnwatch.errors import KilnwatchError
from kilnwatch.formats import EXTERNAL_SOURCE_FORMATS
from kilnwatch.ingest.tables import (
    Record,
    TableImportReport,
    TableKind,
    TableRow,
    TextEncoding,
    import_tables,
)
from kilnwatch.reference.energy import load_coal_coefficients, load_densities
from kilnwatch.reference.registry import load_processes
from kilnwatch.store.repos.registry import enterprise_ids_by_uscc
from kilnwatch.store.repos.sources import NATURAL_KEYS, SOURCE_MODELS, upsert_rows

_CARRIER = r"[a-z][a-z0-9_]{1,38}"
_STAT_ITEM = re.compile(rf"^(production:|energy:|stock_opening:|stock_closing:){_CARRIER}$")
_STAT_ITEMS = (
    "production:<product>, energy:<carrier>, stock_opening:<carrier> or stock_closing:<carrier>"
)
_TRADE_ITEM = re.compile(rf"^(product:)?{_CARRIER}$")
_LOGISTICS_ITEM = re.compile(rf"^(product:|material:)?{_CARRIER}$")


@dataclass
class ExternalSourcesReport(TableImportReport):
    """What an import did, with the enterprises and months it brought data for."""

    enterprise_ids: set[int] = field(default_factory=set)
    periods: set[str] = field(default_factory=set)


def _enterprise_id(r: TableRow, usccs: Mapping[str, int]) -> int:
    return usccs.get(r.enterprise(usccs), 0)


def _stat(r: TableRow, usccs: Mapping[str, int]) -> Record:
    item, unit = r.pattern("item", _STAT_ITEM, _STAT_ITEMS), r.unit()
    if item and unit and _STAT_ITEM.match(item):
        problem = _stat_item_problem(item, unit)
        if problem:
            r.fail("item" if "unknown" in problem else "unit", problem)
    return {
        "enterprise_id": _enterprise_id(r, usccs),
        "period": r.month(),
        "item": item,
        "quantity": r.non_negative("quantity"),
        "unit": unit,
    }


def _stat_item_problem(item: str, unit: str) -> str | None:
    """Why a statistical item cannot be checked in ``unit`` (issue 12: ``energy:electricity``
    in ``m3`` or ``production:no_such_product`` used to import and be skipped silently), or
    None. A product must be one of ``processes.csv`` and its unit convert to the product's; a
    carrier's unit must convert to standard coal by GB/T 2589 (``energy_kgce``)."""
    kind, _, name = item.partition(":")
    if kind == "production":
        product_units = {p.product: p.product_unit for p in load_processes().values()}
        if name not in product_units:
            return f"unknown product {name!r} (products of reference/registry/processes.csv)"
        try:
            convert(1.0, unit, product_units[name])
        except KilnwatchError:
            return f"unit {unit!r} is not a unit of {name} (measured in {product_units[name]})"
        return None
    units = [c.unit for c in load_coal_coefficients() if c.carrier == name]
    if not units:
        return f"unknown carrier {name!r} (carriers of the GB/T 2589 coefficient table)"
    try:
        energy_kgce(name, 1.0, unit)
        return None
    except KilnwatchError:
        pass
    dimensions = {dimension_of(u) for u in units}
    if name in load_densities():  # a liquid metered by volume converts through its density
        dimensions |= {"mass", "volume"}
    if dimension_of(unit) in dimensions:
        return None
    return f"unit {unit!r} is not a unit of {name} ({', '.join(sorted(set(units)))})"


def _invoice(r: TableRow, usccs: Mapping[str, int]) -> Record:
    return {
        "invoice_no": r.key("invoice_no"),
        "enterprise_id": _enterprise_id(r, usccs),
        "issued_on": r.date("issued_on", required=True),
        "direction": r.choice("direction", ("purchase", "sale")),
        "item": r.pattern("item", _TRADE_ITEM, "a carrier key or product:<product>"),
        "quantity": r.non_negative("quantity"),
        "unit": r.unit(),
        "amount_cny": r.non_negative("amount_cny"),
    }


def _waybill(r: TableRow, usccs: Mapping[str, int]) -> Record:
    return {
        "waybill_no": r.key("waybill_no"),
        "enterprise_id": _enterprise_id(r, usccs),
        "shipped_on": r.date("shipped_on", required=True),
        "direction": r.choice("direction", ("in", "out")),
        "mode": r.choice("mode", ("rail", "road")),
        "item": r.pattern("item", _LOGISTICS_ITEM, "a carrier, material:<x> or product:<x>"),
        "quantity_t": r.non_negative("quantity_t"),
    }


def _grid(r: TableRow, usccs: Mapping[str, int]) -> Record:
    return {
        "enterprise_id": _enterprise_id(r, usccs),
        "period": r.month(),
        "electricity_kwh": r.non_negative("electricity_kwh"),
    }


def _price(r: TableRow, _usccs: Mapping[str, int]) -> Record:
    return {
        "period": r.month(),
        "item": r.pattern("item", _TRADE_ITEM, "a carrier key or product:<product>"),
        "price_cny_per_unit": r.non_negative("price_cny_per_unit"),
        "unit": r.unit(),
    }


CHECKS: dict[str, Callable[[TableRow, Mapping[str, int]], Record]] = {
    "statistical_reports": _stat,
    "tax_invoices": _invoice,
    "logistics": _waybill,
    "grid_electricity": _grid,
    "market_prices": _price,
}

KEY_FIELDS = {
    "statistical_reports": "item",
    "tax_invoices": "invoice_no",
    "logistics": "waybill_no",
    "grid_electricity": "period",
    "market_prices": "item",
}
"""The field a duplicate natural key is reported on."""


def _table_kind(kind: str, usccs: Mapping[str, int]) -> TableKind:
    def check(row: TableRow) -> Record:
        return CHECKS[kind](row, usccs) | {"source_file": row.file, "source_row": row.number}

    return TableKind(EXTERNAL_SOURCE_FORMATS[kind], check, NATURAL_KEYS[kind], KEY_FIELDS[kind])


def import_sources(
    session: Session,
    path: Path,
    *,
    kind: str | None = None,
    skip_invalid: bool = False,
    encoding: TextEncoding | None = None,
) -> ExternalSourcesReport:
    """Import external-source files (the good records keep their file and row number). Raises
    :class:`ImportRejected` (writing nothing) when any row is invalid, unless
    ``skip_invalid``; then the valid rows are written and the rest reported."""
    usccs = enterprise_ids_by_uscc(session)
    kinds = {k: _table_kind(k, usccs) for k in EXTERNAL_SOURCE_FORMATS}
    report = ExternalSourcesReport()

    def store(kind: str, records: list[Record]) -> tuple[int, int]:
        report.enterprise_ids |= {g["enterprise_id"] for g in records if "enterprise_id" in g}
        report.periods |= {_period_of(g) for g in records}
        return upsert_rows(session, SOURCE_MODELS[kind], kind, records)

    return import_tables(path, kinds, "external source", store, report, kind=kind,
                         skip_invalid=skip_invalid, encoding=encoding)  # fmt: skip


def _period_of(record: Record) -> str:
    if "period" in record:
        return str(record["period"])
    day = record.get("issued_on") or record.get("shipped_on")
    return f"{day:%Y-%m}"
