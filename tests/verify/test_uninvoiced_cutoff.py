"""Coal off the books against the invoices: the cut-off allowed is the deliveries the
window's invoices cannot cover yet (after the last invoice, at the enterprise's own invoicing
delay), not a lot whatever the invoicing; missed meter readings do not explain it (the meters
cancel out of delivered − invoiced)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from _verify_factory import MARCH, Plant, store
from sqlalchemy import delete
from sqlalchemy.orm import Session

from kilnwatch.store.models import LogisticsWaybill, TaxInvoice
from kilnwatch.verify.rules.fuel import short_lots, uninvoiced_at_end
from kilnwatch.verify.run import verify_period

COAL = "verify.coal_balance.unmetered"
DAYS = [date(2025, 3, 1) + timedelta(days=n) for n in range(31)]


def test_same_day_invoices_leave_nothing_uninvoiced() -> None:
    delivered = {d: 100.0 + n for n, d in enumerate(DAYS)}
    invoiced = {d: 0.95 * q for d, q in delivered.items()}  # every lot short, none late
    assert uninvoiced_at_end(delivered, invoiced, 10) == (0, 0.0)


def test_a_lagging_invoice_leaves_its_delay_uninvoiced() -> None:
    rng = np.random.default_rng(1)
    delivered = {d: float(rng.uniform(50, 150)) for d in DAYS}
    invoiced = {d + timedelta(days=3): q for d, q in delivered.items() if d <= DAYS[-4]}
    lag, uninvoiced = uninvoiced_at_end(delivered, invoiced, 10)
    assert lag == 3
    assert uninvoiced == sum(delivered[d] for d in DAYS[-3:])


def test_deliveries_after_the_last_invoice_are_uninvoiced() -> None:
    delivered = dict.fromkeys(DAYS, 100.0)
    invoiced = dict.fromkeys(DAYS[:25], 100.0)
    assert uninvoiced_at_end(delivered, invoiced, 10) == (0, 600.0)


def _invoiced_per_delivery(session: Session, plant: Plant, off_books: float, missing: int) -> None:
    """The factory's month invoice replaced by one invoice per delivery on its day; each
    delivery carries ``off_books`` more coal on its waybill than is invoiced and metered; the
    coal meter misses ``missing`` hourly readings."""
    plant.drop["E-IN-COAL"][100 : 100 + missing] = True
    store(session, plant)
    session.execute(delete(TaxInvoice).where(TaxInvoice.invoice_no == "INV-C"))
    waybills = session.query(LogisticsWaybill).filter(LogisticsWaybill.item == "raw_coal").all()
    for n, w in enumerate(waybills):
        session.add(
            TaxInvoice(invoice_no=f"INV-L{n}", enterprise_id=w.enterprise_id,
                       issued_on=w.shipped_on, direction="purchase", item="raw_coal",
                       quantity=w.quantity_t, unit="t", amount_cny=0.0)
        )  # fmt: skip
        w.quantity_t = w.quantity_t / (1 - off_books)
    session.flush()


def _coal(session: Session) -> list[tuple[str | None, str]]:
    return [
        (f.severity, f.evidence["basis"])
        for f in verify_period(session, MARCH).findings
        if f.rule_code == COAL
    ]


def test_coal_off_the_books_on_every_lot_is_found_within_a_lot(session: Session) -> None:
    """4 % more on every waybill than invoiced: under the old allowance of a median lot
    (1/28 of the month) plus the weighing tolerance, found now that every delivery is
    invoiced on its day; the coal meter's missed readings (a day) do not excuse it."""
    plant = Plant()
    _invoiced_per_delivery(session, plant, 0.04, 24)
    found = _coal(session)
    assert found and found[0][1] == "delivered_vs_invoiced"
    assert found[0][0] != "info"


def test_invoices_per_delivery_without_coal_off_the_books_are_no_finding(
    session: Session,
) -> None:
    plant = Plant()
    _invoiced_per_delivery(session, plant, 0.0, 0)
    assert _coal(session) == []


def test_a_week_of_short_lots_is_a_run() -> None:
    delivered = dict.fromkeys(DAYS, 100.0)
    invoiced = {d: 95.0 if 10 <= n < 18 else 100.0 for n, d in enumerate(DAYS)}
    run = short_lots(delivered, invoiced, 0, 0.02, 7)
    assert run is not None and (run.first, run.last, run.days) == (DAYS[10], DAYS[17], 8)
    assert run.delivered_t - run.invoiced_t == 40.0


def test_invoicing_in_arrears_or_late_makes_no_run() -> None:
    delivered = dict.fromkeys(DAYS, 100.0)
    # semi-monthly invoices: the days between have no invoice of their own
    semi = {DAYS[14]: 1500.0, DAYS[30]: 1600.0}
    assert short_lots(delivered, semi, 0, 0.02, 7) is None
    # every other lot invoiced a day late: short one day, long the next
    late = {d: (0.0 if n % 2 else 200.0) for n, d in enumerate(DAYS)}
    assert short_lots(delivered, late, 0, 0.02, 7) is None
    # small invoices every day that are not the deliveries' (none agrees with its day)
    unmatched = dict.fromkeys(DAYS, 20.0)
    assert short_lots(delivered, unmatched, 0, 0.02, 7) is None


def test_coal_off_the_books_over_a_week_is_found_on_its_lots(session: Session) -> None:
    """5 % off the books on the lots of seven days: 1.4 % of the month's deliveries, inside
    the weighing tolerance of the month, found as a run of short lots."""
    plant = Plant()
    _invoiced_per_delivery(session, plant, 0.0, 0)
    for w in session.query(LogisticsWaybill).filter(LogisticsWaybill.item == "raw_coal"):
        if date(2025, 3, 10) <= w.shipped_on < date(2025, 3, 17):
            w.quantity_t = w.quantity_t / 0.95
    session.flush()
    found = [f for f in verify_period(session, MARCH).findings if f.rule_code == COAL]
    assert len(found) == 1 and found[0].severity != "info"
    assert found[0].evidence["short_lots"]["delivery_days"] >= 7
    assert abs(found[0].magnitude_fraction - 0.05) < 0.005
