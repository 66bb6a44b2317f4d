"""A verification run loads the earlier months a cumulating check needs: their invoices,
waybills and the meters' monthly rollups, as far back as ``window_months`` and the data
reach."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from _verify_factory import MARCH, Plant, store
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.periods import parse_period
from kilnwatch.store.models import Meter, Rollup, StatisticalReport, TaxInvoice
from kilnwatch.verify.context import PeriodWindow
from kilnwatch.verify.run import verify_period
from kilnwatch.verify.settings import verify_settings
from zone import SHANGHAI

FEBRUARY = PeriodWindow(parse_period("2025-02", SHANGHAI))
FUEL = "verify.fuel.invoice_vs_metered"


def _february(session: Session, plant: Plant) -> float:
    """Store the plant, February's monthly rollup of the entry coal meter (complete, hourly)
    and coal invoices of February (1.5 x its use) and January (no meter data that month);
    the coal stock reported at the start of February and the end of March is the same."""
    enterprise_id = store(session, plant)
    meter_id = session.scalar(select(Meter.id).where(Meter.code == "E-IN-COAL"))
    hours = FEBRUARY.month.days * 24
    per_hour = float(plant.values["E-IN-COAL"].mean())
    used_t = per_hour * hours
    session.add(
        Rollup(meter_id=meter_id, grain="month", period_start=FEBRUARY.start_at, sum=used_t,
               count=hours, min=per_hour, max=per_hour, first=per_hour, last=per_hour,
               first_ts=FEBRUARY.start_at + timedelta(hours=1), last_ts=FEBRUARY.end_at,
               resets=0, rollovers=0)
    )  # fmt: skip
    for number, day, quantity in (("C-FEB", date(2025, 2, 12), 1.5 * used_t),
                                  ("C-JAN", date(2025, 1, 12), 10 * used_t)):  # fmt: skip
        session.add(
            TaxInvoice(invoice_no=number, enterprise_id=enterprise_id, issued_on=day,
                       direction="purchase", item="raw_coal", quantity=quantity, unit="t",
                       amount_cny=0.0)
        )  # fmt: skip
    for period, item in (
        ("2025-02", "stock_opening:raw_coal"),
        ("2025-03", "stock_closing:raw_coal"),
    ):
        session.add(
            StatisticalReport(enterprise_id=enterprise_id, period=period, item=item,
                              quantity=5 * per_hour * 24, unit="t",
                              source_file="statistical_reports.csv", source_row=1)
        )  # fmt: skip
    session.flush()
    return used_t


def test_the_run_cumulates_the_complete_earlier_months(session: Session) -> None:
    used_t = _february(session, Plant())
    found = verify_period(session, MARCH).findings
    assert [f.rule_code for f in found] == [FUEL]
    evidence = found[0].evidence
    assert evidence["months"] == ["2025-02", "2025-03"]  # January has no meter data
    assert evidence["invoiced"]["invoices"] == ["C-FEB", "INV-C"]
    assert evidence["metered"]["quantity"] > used_t
    assert found[0].start_at == FEBRUARY.start_at
    assert "over 2025-02..2025-03" in found[0].message


def test_a_one_month_window_looks_at_the_month_only(session: Session, tmp_path: Path) -> None:
    _february(session, Plant())
    override = tmp_path / "one.toml"
    override.write_text(f'[rules."{FUEL}"]\nwindow_months = 1\n')
    assert verify_period(session, MARCH, settings=verify_settings(override=override)).findings == []
