"""``verify.revenue.amount_vs_market`` judges the month's price against the enterprise's own
price history relative to the market (issue 12, class 4)."""

from __future__ import annotations

from datetime import date

import pytest
from _verify_factory import CEMENT_PRICE, MARCH, Plant, store
from sqlalchemy.orm import Session

from kilnwatch.store.models import MarketPrice, TaxInvoice
from kilnwatch.verify.run import verify_period

MARKET = "verify.revenue.amount_vs_market"
#: Earlier months: (period, market price [CNY/t], the enterprise's relative price).
HISTORY = (("2024-11", 290.0, 0.965), ("2024-12", 305.0, 0.972), ("2025-01", 310.0, 0.968),
           ("2025-02", 298.0, 0.975))  # fmt: skip


def _sale(number: str, day: date, relative: float, market: float) -> TaxInvoice:
    return TaxInvoice(invoice_no=number, issued_on=day, direction="sale",
                      item="product:clinker", quantity=2000.0, unit="t",
                      amount_cny=2000.0 * market * relative)  # fmt: skip


def _plant(march_relative: float, history: tuple[tuple[str, float, float], ...]) -> Plant:
    plant = Plant()
    plant.extra.append(_sale("S-03", date(2025, 3, 12), march_relative, CEMENT_PRICE))
    for n, (period, market, relative) in enumerate(history):
        year, month = map(int, period.split("-"))
        plant.extra.append(_sale(f"S-{n}", date(year, month, 10), relative, market))
        plant.extra.append(MarketPrice(period=period, item="product:clinker",
                                       price_cny_per_unit=market, unit="t"))  # fmt: skip
    return plant


def _market_findings(session: Session, plant: Plant) -> list[dict[str, object]]:
    store(session, plant)
    found = verify_period(session, MARCH).findings
    return [f.evidence for f in found if f.rule_code == MARKET]


def test_six_percent_below_its_own_price_is_found_inside_the_market_band(
    session: Session,
) -> None:
    found = _market_findings(session, _plant(0.97 * 0.94, HISTORY))  # -8.8 % vs the market
    assert len(found) == 1
    assert found[0]["basis"] == "own_history"
    assert found[0]["history_months"] == ["2025-02", "2025-01", "2024-12", "2024-11"]
    assert found[0]["gap_fraction"] == pytest.approx(-0.06, abs=0.005)


def test_an_enterprise_that_always_sells_low_is_not_flagged(session: Session) -> None:
    low = tuple((p, m, r - 0.09) for p, m, r in HISTORY)  # -12 % vs the market, every month
    assert _market_findings(session, _plant(0.965 - 0.09, low)) == []


def test_a_short_history_falls_back_to_the_market_band_and_says_so(session: Session) -> None:
    found = _market_findings(session, _plant(0.85, HISTORY[-1:]))
    assert len(found) == 1 and found[0]["basis"] == "market_band"
    assert "fewer than 3" in str(found[0]["history_too_short"])


def test_a_price_above_its_own_level_is_info(session: Session) -> None:
    """Invoicing more per tonne than usual hides no revenue: reported, as info."""
    store(session, _plant(0.97 * 1.06, HISTORY))
    found = [f for f in verify_period(session, MARCH).findings if f.rule_code == MARKET]
    assert [f.severity for f in found] == ["info"]
    assert "no revenue hidden" in found[0].message
