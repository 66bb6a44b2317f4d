"""Energy and carbon intensity against a base period, from entry meters and VAT invoices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.accounting.intensity import intensity_rows
from kilnwatch.domain.periods import parse_period
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import Enterprise, TaxInvoice
from zone import POLICY, SHANGHAI

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
ADMIN = Principal("t", Role.ADMIN)


def _month(session: Session, year: int, coal_t: float, revenue_cny: float) -> None:
    """Coal through the entry meter M-JN-C0 on days 2..11 at noon, and one sales invoice."""
    start = datetime(year, 3, 2, 12, tzinfo=UTC)
    rows = [RawReading("M-JN-C0", start + timedelta(days=d), coal_t / 10, "t") for d in range(10)]
    result = ingest_readings(
        session, rows, "file", f"m{year}", now=datetime(2026, 1, 1, tzinfo=UTC), policy=POLICY
    )
    assert result.accepted == 10
    enterprise_id = session.scalar(
        select(Enterprise.id).where(Enterprise.uscc == "91370100MA3C4XY21E")
    )
    session.add(
        TaxInvoice(
            invoice_no=f"INV{year}", enterprise_id=enterprise_id, issued_on=date(year, 3, 15),
            direction="sale", item="product:clinker", quantity=1, unit="t", amount_cny=revenue_cny,
        )
    )  # fmt: skip


def test_intensity_against_the_base_year(session: Session) -> None:
    """2020-03: 1 000 t raw coal = 714.3 tce for 1 000 x 10^4 CNY -> 0.7143 tce/10^4 CNY.
    2025-03: 900 t = 642.87 tce for 1 100 x 10^4 CNY -> 0.58443 tce/10^4 CNY.
    Change = 0.58443 / 0.7143 - 1 = -18.18 % -> meets the -13.5 % target."""
    import_registry(session, REGISTRY)
    _month(session, 2020, 1_000, 10_000_000)
    _month(session, 2025, 900, 11_000_000)
    session.commit()
    rows = intensity_rows(
        session, ADMIN, parse_period("2025-03", SHANGHAI), parse_period("2020-03", SHANGHAI), "city"
    )
    jinan = next(r for r in rows if r.key == "370100")
    assert jinan.name == "济南市"
    assert jinan.base.energy_intensity_tce_per_10k_cny == pytest.approx(0.7143)
    assert jinan.period.energy_intensity_tce_per_10k_cny == pytest.approx(642.87 / 1100)
    assert jinan.energy_change_fraction == pytest.approx(642.87 / 1100 / 0.7143 - 1)
    assert jinan.meets_energy_target is True
    assert jinan.carbon_change_fraction == pytest.approx(jinan.energy_change_fraction)
    qingdao = next(r for r in rows if r.key == "370200")
    assert qingdao.energy_change_fraction is None and qingdao.notes
