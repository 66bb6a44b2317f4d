"""External source rows (statistics, tax, logistics, grid, prices): upserts and period queries.

Repositories add and flush; they never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.store.models import (
    GridElectricity,
    LogisticsWaybill,
    MarketPrice,
    StatisticalReport,
    TaxInvoice,
)

SourceModel = (
    type[StatisticalReport]
    | type[TaxInvoice]
    | type[LogisticsWaybill]
    | type[GridElectricity]
    | type[MarketPrice]
)

SOURCE_MODELS: dict[str, Any] = {
    "statistical_reports": StatisticalReport,
    "tax_invoices": TaxInvoice,
    "logistics": LogisticsWaybill,
    "grid_electricity": GridElectricity,
    "market_prices": MarketPrice,
}

NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "statistical_reports": ("enterprise_id", "period", "item"),
    "tax_invoices": ("invoice_no",),
    "logistics": ("waybill_no",),
    "grid_electricity": ("enterprise_id", "period"),
    "market_prices": ("period", "item"),
}


def natural_key(kind: str, record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record[k] for k in NATURAL_KEYS[kind])


def upsert_rows(
    session: Session, model: Any, kind: str, rows: Sequence[dict[str, Any]]
) -> tuple[int, int]:
    """Insert new rows and update existing ones by natural key; returns (created, updated)."""
    return upsert_by_key(session, model, NATURAL_KEYS[kind], rows)


def upsert_by_key(
    session: Session, model: Any, keys: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> tuple[int, int]:
    """Insert or update ``rows`` of ``model`` by the columns ``keys``; (created, updated)."""
    existing = {tuple(getattr(o, k) for k in keys): o for o in session.scalars(select(model))}
    created = updated = 0
    for row in rows:
        key = tuple(row[k] for k in keys)
        obj = existing.get(key)
        if obj is None:
            obj = model(**row)
            session.add(obj)
            existing[key] = obj
            created += 1
        else:
            for name, value in row.items():
                setattr(obj, name, value)
            updated += 1
    session.flush()
    return created, updated


_Row = TypeVar("_Row")


def _of_enterprises(
    session: Session, model: type[_Row], enterprise_ids: Sequence[int], *where: Any
) -> list[_Row]:
    """Rows of ``model`` (a source table with ``enterprise_id``) of these enterprises."""
    table: Any = model
    return list(
        session.scalars(select(model).where(table.enterprise_id.in_(enterprise_ids), *where))
    )


def statistical_reports(
    session: Session, enterprise_ids: Sequence[int], periods: Sequence[str]
) -> list[StatisticalReport]:
    return _of_enterprises(
        session, StatisticalReport, enterprise_ids, StatisticalReport.period.in_(periods)
    )


def grid_totals(
    session: Session, enterprise_ids: Sequence[int], periods: Sequence[str]
) -> list[GridElectricity]:
    return _of_enterprises(
        session, GridElectricity, enterprise_ids, GridElectricity.period.in_(periods)
    )


def invoices(
    session: Session, enterprise_ids: Sequence[int], start: date, end: date
) -> list[TaxInvoice]:
    day = TaxInvoice.issued_on
    return _of_enterprises(session, TaxInvoice, enterprise_ids, day >= start, day < end)


def sales_invoices(
    session: Session, enterprise_ids: Sequence[int], start: date, end: date
) -> list[TaxInvoice]:
    """Sales invoices of the enterprises issued in [start, end)."""
    day = TaxInvoice.issued_on
    sale = TaxInvoice.direction == "sale"
    return _of_enterprises(session, TaxInvoice, enterprise_ids, sale, day >= start, day < end)


def waybills(
    session: Session, enterprise_ids: Sequence[int], start: date, end: date
) -> list[LogisticsWaybill]:
    day = LogisticsWaybill.shipped_on
    return _of_enterprises(session, LogisticsWaybill, enterprise_ids, day >= start, day < end)


def prices(session: Session, periods: Sequence[str]) -> list[MarketPrice]:
    return list(session.scalars(select(MarketPrice).where(MarketPrice.period.in_(periods))))


def source_periods(session: Session) -> list[str]:
    """Every period some enterprise reported statistics or grid totals for."""
    stat = set(session.scalars(select(StatisticalReport.period).distinct()))
    grid = set(session.scalars(select(GridElectricity.period).distinct()))
    return sorted(stat | grid)
