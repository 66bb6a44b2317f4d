"""External-source importers: located errors, all-or-nothing, --skip-invalid, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.ingest.external_sources import import_sources
from kilnwatch.store.models import (
    Enterprise,
    GridElectricity,
    LogisticsWaybill,
    MarketPrice,
    StatisticalReport,
    TaxInvoice,
)

USCC = "91370100MA3C4XYZ1Q"
FILES = {
    "statistical_reports.csv": "enterprise_uscc,period,item,quantity,unit\n"
    f"{USCC},2025-03,energy:raw_coal,1200.5,t\n{USCC},2025-03,production:clinker,90000,t\n",
    "tax_invoices.csv": "invoice_no,enterprise_uscc,issued_on,direction,item,quantity,unit,"
    f"amount_cny\nI1,{USCC},2025-03-05,purchase,raw_coal,1200,t,960000\n"
    f"I2,{USCC},2025-03-20,sale,product:clinker,50000,t,15000000\n",
    "logistics.csv": "waybill_no,enterprise_uscc,shipped_on,direction,mode,item,quantity_t\n"
    f"W1,{USCC},2025-03-02,in,rail,raw_coal,3000\nW2,{USCC},2025-03-03,out,road,product:clinker,300\n",
    "grid_electricity.csv": f"enterprise_uscc,period,electricity_kwh\n{USCC},2025-03,5400000\n",
    "market_prices.csv": "period,item,price_cny_per_unit,unit\n2025-03,product:clinker,300,t\n",
}


@pytest.fixture
def folder(tmp_path: Path, session: Session) -> Path:
    session.add(Enterprise(uscc=USCC, name="测试", region_code="370102", industry="cement"))
    session.flush()
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_imports_every_kind_and_reimport_is_idempotent(session: Session, folder: Path) -> None:
    report = import_sources(session, folder)
    assert report.created == {
        "statistical_reports": 2,
        "tax_invoices": 2,
        "logistics": 2,
        "grid_electricity": 1,
        "market_prices": 1,
    }
    assert report.periods == {"2025-03"}
    again = import_sources(session, folder)
    assert sum(again.created.values()) == 0 and sum(again.updated.values()) == 8
    counts = [
        _count(session, m)
        for m in (StatisticalReport, TaxInvoice, LogisticsWaybill, GridElectricity, MarketPrice)
    ]
    assert counts == [2, 2, 2, 1, 1]
    row = session.scalar(
        select(StatisticalReport).where(StatisticalReport.item == "energy:raw_coal")
    )
    assert row is not None and (row.source_file, row.source_row) == ("statistical_reports.csv", 1)


def test_bad_rows_are_located_and_nothing_is_written(session: Session, folder: Path) -> None:
    (folder / "tax_invoices.csv").write_text(
        "invoice_no,enterprise_uscc,issued_on,direction,item,quantity,unit,amount_cny\n"
        f"I1,{USCC},2025-03-05,purchase,raw_coal,-5,t,100\n"
        f"I2,{USCC},03/05/2025,swap,raw_coal,5,parsec,100\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as info:
        import_sources(session, folder)
    messages = [e.message for e in info.value.errors]
    assert (
        "tax_invoices.csv, row 1, field 'quantity': must be a non-negative number, got -5"
        in messages
    )
    assert any(m.startswith("tax_invoices.csv, row 2, field 'issued_on'") for m in messages)
    assert any(m.startswith("tax_invoices.csv, row 2, field 'direction'") for m in messages)
    assert any(m.startswith("tax_invoices.csv, row 2, field 'unit'") for m in messages)
    assert _count(session, StatisticalReport) == 0


def test_skip_invalid_imports_the_good_rows(session: Session, folder: Path) -> None:
    (folder / "grid_electricity.csv").write_text(
        f"enterprise_uscc,period,electricity_kwh\n{USCC},2025-13,1\n{USCC},2025-04,7\n",
        encoding="utf-8",
    )
    report = import_sources(session, folder, skip_invalid=True)
    assert [r.error.location.row for r in report.rejected] == [1]
    assert _count(session, GridElectricity) == 1


def test_unknown_column_and_unknown_enterprise(session: Session, folder: Path) -> None:
    path = folder / "grid_electricity.csv"
    path.write_text(
        "enterprise_uscc,period,electricity_kwh,note\nX,2025-03,1,a\n", encoding="utf-8"
    )
    with pytest.raises(ImportRejected) as info:
        import_sources(session, path)
    assert [e.message for e in info.value.errors] == [
        "grid_electricity.csv, field 'note': unknown column (typo?)"
    ]
    path.write_text(
        "enterprise_uscc,period,electricity_kwh\n91370100MA3C4XYZ2Q,2025-03,1\n", encoding="utf-8"
    )
    with pytest.raises(ImportRejected) as info:
        import_sources(session, path)
    assert "unknown enterprise" in info.value.errors[0].message


def test_kind_from_name_or_option(session: Session, folder: Path) -> None:
    odd = folder / "march.csv"
    odd.write_text(FILES["market_prices.csv"], encoding="utf-8")
    with pytest.raises(InputError):
        import_sources(session, odd)
    assert import_sources(session, odd, kind="market_prices").created == {"market_prices": 1}


@pytest.mark.parametrize(
    ("item", "unit", "field", "reason"),
    [
        ("energy:electricity", "m3", "unit", "is not a unit of electricity"),
        ("production:no_such_product", "t", "item", "unknown product"),
        ("energy:no_such_fuel", "t", "item", "unknown carrier"),
        ("stock_closing:raw_coal", "kWh", "unit", "is not a unit of raw_coal"),
    ],
)
def test_statistical_items_and_units_are_checked_at_import(
    folder: Path, session: Session, item: str, unit: str, field: str, reason: str
) -> None:
    """Issue 12: an item verification cannot use is refused with its row and field."""
    path = folder / "statistical_reports.csv"
    path.write_text(
        "enterprise_uscc,period,item,quantity,unit\n"
        f"{USCC},2025-03,energy:raw_coal,10,t\n"
        f"{USCC},2025-03,{item},10,{unit}\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as rejected:
        import_sources(session, path)
    text = str(rejected.value) + " ".join(str(e) for e in getattr(rejected.value, "errors", []))
    assert "row 2" in text and f"'{field}'" in text and reason in text, text
