"""Importers for external sources: statistical reports, tax invoices, logistics waybills, grid
electricity totals and market prices (formats: ``docs/formats.md``, "Other sources").

Same rules as every importer: each fault is reported as ``FILE, row N, field 'X': reason``;
the import is all-or-nothing unless ``skip_invalid``; rows are upserted by their natural key
(invoice number, waybill number, enterprise + period + item, …) so re-importing a file is
harmless. Nothing is committed here: the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.units import unit_def
from kilnwatch.errors import ImportRejected, InputError, UnitError
from kilnwatch.ingest.registry import Rejected, _Row, check_rows
from kilnwatch.ingest.tables import Table, read_table
from kilnwatch.store.models import Enterprise
from kilnwatch.store.repos.sources import SOURCE_MODELS, natural_key, upsert_rows

KINDS = ("statistical_reports", "tax_invoices", "logistics", "grid_electricity", "market_prices")

COLUMNS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "statistical_reports": (
        frozenset({"enterprise_uscc", "period", "item", "quantity", "unit"}),
        frozenset(),
    ),
    "tax_invoices": (
        frozenset(
            {
                "invoice_no",
                "enterprise_uscc",
                "issued_on",
                "direction",
                "item",
                "quantity",
                "unit",
                "amount_cny",
            }
        ),
        frozenset(),
    ),
    "logistics": (
        frozenset(
            {
                "waybill_no",
                "enterprise_uscc",
                "shipped_on",
                "direction",
                "mode",
                "item",
                "quantity_t",
            }
        ),
        frozenset(),
    ),
    "grid_electricity": (frozenset({"enterprise_uscc", "period", "electricity_kwh"}), frozenset()),
    "market_prices": (frozenset({"period", "item", "price_cny_per_unit", "unit"}), frozenset()),
}

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CARRIER = r"[a-z][a-z0-9_]{1,38}"
_STAT_ITEM = re.compile(rf"^(production:|energy:){_CARRIER}$")
_TRADE_ITEM = re.compile(rf"^(product:)?{_CARRIER}$")
_LOGISTICS_ITEM = re.compile(rf"^(product:|material:)?{_CARRIER}$")


@dataclass
class SourcesReport:
    """What an import did, per kind; ``rejected`` lists the refused rows with their fault."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    enterprise_ids: set[int] = field(default_factory=set)
    periods: set[str] = field(default_factory=set)


class _SourceRow(_Row):
    """Row accessors of the registry importer plus the value types of the source files."""

    def period(self, name: str = "period") -> str:
        value = self.text(name, max_len=7)
        if value and not _PERIOD.match(value):
            self.fail(name, f"{value!r} is not a month (YYYY-MM)")
        return value

    def amount(self, name: str) -> float:
        value = self.text(name)
        try:
            number = float(value)
        except ValueError:
            if value:
                self.fail(name, f"{value!r} is not a number")
            return 0.0
        if not 0 <= number < float("inf"):
            self.fail(name, f"must be a non-negative number, got {value}")
        return number

    def unit(self, name: str = "unit") -> str:
        value = self.text(name, max_len=16)
        if value:
            try:
                unit_def(value)
            except UnitError:
                self.fail(name, f"unknown unit {value!r} (see reference/units.csv)")
        return value

    def pattern(self, name: str, regex: re.Pattern[str], what: str) -> str:
        value = self.text(name, max_len=60)
        if value and not regex.match(value):
            self.fail(name, f"{value!r} is not {what}")
        return value

    def enterprise(self, usccs: dict[str, int]) -> int:
        uscc = self.text("enterprise_uscc").upper()
        if uscc and uscc not in usccs:
            self.fail("enterprise_uscc", f"unknown enterprise {uscc}")
        return usccs.get(uscc, 0)


def _stat(r: _SourceRow, usccs: dict[str, int]) -> dict[str, Any]:
    return {
        "enterprise_id": r.enterprise(usccs),
        "period": r.period(),
        "item": r.pattern("item", _STAT_ITEM, "production:<product> or energy:<carrier>"),
        "quantity": r.amount("quantity"),
        "unit": r.unit(),
    }


def _invoice(r: _SourceRow, usccs: dict[str, int]) -> dict[str, Any]:
    issued = r.date("issued_on")
    if issued is None and not r.raw.get("issued_on"):
        r.fail("issued_on", "is required")
    return {
        "invoice_no": r.key("invoice_no"),
        "enterprise_id": r.enterprise(usccs),
        "issued_on": issued,
        "direction": r.choice("direction", ("purchase", "sale")),
        "item": r.pattern("item", _TRADE_ITEM, "a carrier key or product:<product>"),
        "quantity": r.amount("quantity"),
        "unit": r.unit(),
        "amount_cny": r.amount("amount_cny"),
    }


def _waybill(r: _SourceRow, usccs: dict[str, int]) -> dict[str, Any]:
    shipped = r.date("shipped_on")
    if shipped is None and not r.raw.get("shipped_on"):
        r.fail("shipped_on", "is required")
    return {
        "waybill_no": r.key("waybill_no"),
        "enterprise_id": r.enterprise(usccs),
        "shipped_on": shipped,
        "direction": r.choice("direction", ("in", "out")),
        "mode": r.choice("mode", ("rail", "road")),
        "item": r.pattern("item", _LOGISTICS_ITEM, "a carrier, material:<x> or product:<x>"),
        "quantity_t": r.amount("quantity_t"),
    }


def _grid(r: _SourceRow, usccs: dict[str, int]) -> dict[str, Any]:
    return {
        "enterprise_id": r.enterprise(usccs),
        "period": r.period(),
        "electricity_kwh": r.amount("electricity_kwh"),
    }


def _price(r: _SourceRow, _usccs: dict[str, int]) -> dict[str, Any]:
    return {
        "period": r.period(),
        "item": r.pattern("item", _TRADE_ITEM, "a carrier key or product:<product>"),
        "price_cny_per_unit": r.amount("price_cny_per_unit"),
        "unit": r.unit(),
    }


CHECKS: dict[str, Callable[[_SourceRow, dict[str, int]], dict[str, Any]]] = {
    "statistical_reports": _stat,
    "tax_invoices": _invoice,
    "logistics": _waybill,
    "grid_electricity": _grid,
    "market_prices": _price,
}


def kind_of(path: Path) -> str:
    """The source kind a file holds, from its name (``tax_invoices.csv``, ``logistics.xlsx``…)."""
    stem = path.stem.lower()
    for kind in KINDS:
        if stem == kind or stem.startswith(kind) or stem.endswith(kind):
            return kind
    raise InputError(
        f"cannot tell the source kind from the file name; name it one of {', '.join(KINDS)}",
        file=path.name,
    )


def source_files(path: Path, kind: str | None = None) -> list[tuple[str, Path]]:
    """The files to import from ``path`` (a file or a folder)."""
    if path.is_dir():
        found = [
            (k, path / f"{k}{suffix}")
            for k in KINDS
            for suffix in (".csv", ".xlsx")
            if (path / f"{k}{suffix}").exists()
        ]
        if not found:
            raise InputError(
                "no source files (statistical_reports, tax_invoices, …) found", file=str(path)
            )
        return found
    if not path.exists():
        raise InputError("file not found", file=str(path))
    if kind is not None and kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}", field="kind")
    return [(kind or kind_of(path), path)]


def check_table(
    kind: str, table: Table, usccs: dict[str, int]
) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """Validate every row of ``table``; returns the good records and the rejected rows."""
    good: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    checked = check_rows(
        table,
        COLUMNS[kind],
        _SourceRow,
        lambda row: CHECKS[kind](row, usccs),
        lambda record: natural_key(kind, record),
        _KEY_FIELD[kind],
    )
    for row, record in checked:
        if row.errors:
            rejected += [Rejected(e, row.raw) for e in row.errors]
        else:
            good.append(record | {"source_file": table.file, "source_row": row.number})
    return good, rejected


_KEY_FIELD = {
    "statistical_reports": "item",
    "tax_invoices": "invoice_no",
    "logistics": "waybill_no",
    "grid_electricity": "period",
    "market_prices": "item",
}


def import_sources(
    session: Session, path: Path, *, kind: str | None = None, skip_invalid: bool = False
) -> SourcesReport:
    """Import source files. Raises :class:`ImportRejected` (writing nothing) when any row is
    invalid, unless ``skip_invalid``; then the valid rows are written and the rest reported."""
    files = source_files(path, kind)
    usccs = dict(session.execute(select(Enterprise.uscc, Enterprise.id)).all())
    checked = [(k, *check_table(k, read_table(p), usccs)) for k, p in files]
    rejected = [r for _, _, rej in checked for r in rej]
    if rejected and not skip_invalid:
        raise ImportRejected([r.error for r in rejected], file=str(path))
    report = SourcesReport(rejected=rejected)
    for k, good, _ in checked:
        report.created[k], report.updated[k] = upsert_rows(session, SOURCE_MODELS[k], k, good)
        report.enterprise_ids |= {g["enterprise_id"] for g in good if "enterprise_id" in g}
        report.periods |= {_period_of(g) for g in good}
    return report


def _period_of(record: dict[str, Any]) -> str:
    if "period" in record:
        return str(record["period"])
    day = record.get("issued_on") or record.get("shipped_on")
    return f"{day:%Y-%m}"


def rejected_errors(rejected: Sequence[Rejected]) -> list[InputError]:
    return [r.error for r in rejected]
