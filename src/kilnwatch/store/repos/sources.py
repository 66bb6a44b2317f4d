"""External source rows (statistics, tax, logistics, grid, prices): upserts and period queries.

Repositories add and flush; they never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

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


def statistical_reports(
    session: Session, enterprise_ids: Sequence[int], periods: Sequence[str]
) -> list[StatisticalReport]:
    stmt = select(StatisticalReport).where(
        StatisticalReport.enterprise_id.in_(enterprise_ids), StatisticalReport.period.in_(periods)
    )
    return list(session.scalars(stmt))


def grid_totals(
    session: Session, enterprise_ids: Sequence[int], periods: Sequence[str]
) -> list[GridElectricity]:
    stmt = select(GridElectricity).where(
        GridElectricity.enterprise_id.in_(enterprise_ids), GridElectricity.period.in_(periods)
    )
    return list(session.scalars(stmt))


def invoices(
    session: Session, enterprise_ids: Sequence[int], start: date, end: date
) -> list[TaxInvoice]:
    stmt = select(TaxInvoice).where(
        TaxInvoice.enterprise_id.in_(enterprise_ids),
        TaxInvoice.issued_on >= start,
        TaxInvoice.issued_on < end,
    )
    return list(session.scalars(stmt))


def sales_invoices(
    session: Session, enterprise_ids: Sequence[int], start: date, end: date
) -> list[TaxInvoice]:
    """Sales invoices of the enterprises issued in [start, end)."""
    stmt = select(TaxInvoice).where(
        TaxInvoice.enterprise_id.in_(enterprise_ids),
        TaxInvoice.direction == "sale",
        TaxInvoice.issued_on >= start,
        TaxInvoice.issued_on < end,
    )
    return list(session.scalars(stmt))


def waybills(
    session: Session, enterprise_ids: Sequence[int], start: date, end: date
) -> list[LogisticsWaybill]:
    stmt = select(LogisticsWaybill).where(
        LogisticsWaybill.enterprise_id.in_(enterprise_ids),
        LogisticsWaybill.shipped_on >= start,
        LogisticsWaybill.shipped_on < end,
    )
    return list(session.scalars(stmt))


def prices(session: Session, periods: Sequence[str]) -> list[MarketPrice]:
    return list(session.scalars(select(MarketPrice).where(MarketPrice.period.in_(periods))))


def source_periods(session: Session) -> list[str]:
    """Every period some enterprise reported statistics or grid totals for."""
    stat = set(session.scalars(select(StatisticalReport.period).distinct()))
    grid = set(session.scalars(select(GridElectricity.period).distinct()))
    return sorted(stat | grid)
