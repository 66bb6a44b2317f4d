"""Sales invoiced against product shipped out, judged with the province's invoicing timing
difference (issue 12, class 2: a tolerance from normal behaviour): where the enterprises
invoice what they ship in the same month, sales 6 % below a month of 12 lots are found,
which one lot of tolerance (8 %) let pass; where they invoice a lot late, the same gap is a
timing difference."""

from __future__ import annotations

from datetime import date

from peer_plants import WINDOW

from kilnwatch.analytics.meters import EnterpriseInfo
from kilnwatch.store.models import LogisticsWaybill, TaxInvoice
from kilnwatch.verify.context import EnterpriseContext, Sources, build_context
from kilnwatch.verify.rules.revenue import SHIPPED, check_sales_vs_shipped
from kilnwatch.verify.settings import verify_settings

LOT_T = 1000.0
LOTS = 12


def _plant(n: int, declared_lots: float) -> EnterpriseContext:
    """A plant shipping twelve lots of clinker in March and invoicing ``declared_lots`` of
    them as sales in the month."""
    waybills = [
        LogisticsWaybill(
            waybill_no=f"P{n}-OUT{k}",
            shipped_on=date(2025, 3, 2 + 2 * k),
            direction="out",
            mode="road",
            item="product:clinker",
            quantity_t=LOT_T,
        )
        for k in range(LOTS)
    ]
    invoice = TaxInvoice(
        invoice_no=f"P{n}-S1",
        issued_on=date(2025, 3, 28),
        direction="sale",
        item="product:clinker",
        quantity=declared_lots * LOT_T,
        unit="t",
        amount_cny=declared_lots * LOT_T * 300.0,
    )
    info = EnterpriseInfo(n, f"U{n}", "cement", (), ())
    sources = Sources(invoices=[invoice], waybills=waybills)
    return build_context(info, WINDOW, {}, sources, verify_settings())


def _found(contexts: list[EnterpriseContext]) -> dict[int, float | None]:
    return {
        f.enterprise_id: f.magnitude_fraction
        for f in check_sales_vs_shipped(contexts, [])
        if f.rule_code == SHIPPED
    }


def test_sales_below_shipments_where_the_province_invoices_in_the_month() -> None:
    """Six plants invoice exactly what they shipped; the seventh 6 % less (0.72 of a lot of
    twelve): found, with a tolerance of 2 % (no timing difference among its peers)."""
    plants = [_plant(n, LOTS) for n in range(1, 7)] + [_plant(7, LOTS * 0.94)]
    found = _found(plants)
    assert set(found) == {7}
    assert found[7] is not None and abs(abs(found[7]) - 0.06) < 1e-9
    f = next(iter(check_sales_vs_shipped(plants, [])))
    assert f.evidence["cutoff_lots"] == 0.0 and f.evidence["peer_enterprises"] == 6
    assert f.evidence["tolerance_fraction"] == 0.02


def test_a_timing_difference_of_the_province_is_not_a_finding() -> None:
    """The peers invoice between none and one lot short of what they shipped (a lot shipped
    at the month's end invoiced in the next): the same 6 % gap is a timing difference."""
    short = [0.0, 1.0, 0.5, 1.0, 0.0, 0.8]
    plants = [_plant(n, LOTS - s) for n, s in enumerate(short, start=1)]
    plants.append(_plant(7, LOTS * 0.94))
    assert _found(plants) == {}


def test_with_few_peers_one_lot_is_allowed() -> None:
    """Fewer than ``min_peers`` other plants shipping in lots: the window's ends may part
    sales and shipments by one lot (8.3 % of twelve), as the rule always allowed."""
    plants = [_plant(1, LOTS), _plant(7, LOTS * 0.94)]
    assert _found(plants) == {}
    assert set(_found([_plant(1, LOTS), _plant(7, LOTS * 0.88)])) == {7}
