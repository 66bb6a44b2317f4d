"""A small province for report tests: three enterprises in three cities and industries, each
with metered coal, electricity and product in March of 2025, 2024 and 2020, sales invoices,
findings and a credibility score. Loaded through the real ingestion path and its rollups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain.periods import parse_period
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.models import CredibilityScore, Enterprise, FindingRecord, TaxInvoice
from zone import POLICY, SHANGHAI

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
ADMIN = Principal("t", Role.ADMIN)
JINAN, QINGDAO, ZIBO = "91370100MA3C4XY21E", "91370200163562681G", "91370300164104521M"

EXTRA_METERS = """meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure
M-JN-K1,91370100MA3C4XY21E,CL1,product:clinker,sub_unit,interval,t
M-QD-W0,91370200163562681G,CO1,washed_coal,entry,interval,t
M-QD-E0,91370200163562681G,CO1,electricity,entry,interval,kWh
M-QD-P1,91370200163562681G,CO1,product:coke,sub_unit,interval,t
M-ZB-C0,91370300164104521M,BF1,coke,entry,interval,t
M-ZB-E0,91370300164104521M,BF1,electricity,entry,interval,kWh
M-ZB-P1,91370300164104521M,BF1,product:hot_metal,sub_unit,interval,t
"""

# Monthly quantities per meter and year (t or kWh); the 2025 figures fall against 2024 and 2020.
QUANTITIES: dict[str, dict[int, float]] = {
    "M-JN-C0": {2025: 12_000, 2024: 12_500, 2020: 14_000},
    "M-JN-K1": {2025: 100_000, 2024: 98_000, 2020: 95_000},
    "M-QD-W0": {2025: 80_000, 2024: 82_000, 2020: 90_000},
    "M-QD-E0": {2025: 3_100_000, 2024: 3_000_000, 2020: 3_500_000},
    "M-QD-P1": {2025: 60_000, 2024: 60_500, 2020: 58_000},
    "M-ZB-C0": {2025: 70_000, 2024: 72_000, 2020: 80_000},
    "M-ZB-E0": {2025: 6_200_000, 2024: 6_000_000, 2020: 7_000_000},
    "M-ZB-P1": {2025: 200_000, 2024: 195_000, 2020: 190_000},
}
REVENUE_CNY: dict[str, dict[int, float]] = {
    JINAN: {2025: 40_000_000, 2024: 38_000_000, 2020: 30_000_000},
    QINGDAO: {2025: 150_000_000, 2024: 140_000_000, 2020: 120_000_000},
    ZIBO: {2025: 600_000_000, 2024: 580_000_000, 2020: 500_000_000},
}
YEARS = (2025, 2024, 2020)
FINDINGS = (  # (enterprise, severity, status)
    (JINAN, "high", "open"),
    (JINAN, "medium", "confirmed"),
    (JINAN, "low", "dismissed"),
    (QINGDAO, "high", "open"),
    (QINGDAO, "info", "open"),
    (ZIBO, "medium", "closed"),
)


def load_report_province(session: Session, tmp_path: Path) -> None:
    import_registry(session, REGISTRY)
    extra = tmp_path / "meters.csv"
    extra.write_text(EXTRA_METERS, encoding="utf-8")
    import_registry(session, extra)
    rows = []
    for year in YEARS:
        start = parse_period(f"{year}-03", SHANGHAI).start.astimezone(UTC)
        for day in range(1, 32):  # interval readings close each day: 1 Mar 00:00 .. 1 Apr 00:00
            ts = start + timedelta(days=day)
            rows += [RawReading(code, ts, q[year] / 31, "") for code, q in QUANTITIES.items()]
    result = ingest_readings(
        session, rows, "file", "test", policy=POLICY, now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert result.rejected == [], result.rejected[:3]
    ids = dict(session.execute(select(Enterprise.uscc, Enterprise.id)).all())
    for uscc, by_year in REVENUE_CNY.items():
        for year, amount in by_year.items():
            session.add(
                TaxInvoice(
                    invoice_no=f"INV-{uscc[-4:]}-{year}", enterprise_id=ids[uscc],
                    issued_on=date(year, 3, 20), direction="sale", item="product", quantity=1,
                    unit="t", amount_cny=amount,
                )
            )  # fmt: skip
    at = datetime(2025, 3, 10, tzinfo=UTC)
    for n, (uscc, severity, status) in enumerate(FINDINGS):
        session.add(
            FindingRecord(
                fingerprint=f"fp{n}", rule_code=f"verify.test.rule{n}", enterprise_id=ids[uscc],
                period="2025-03", start_at=at, end_at=at, severity=severity, status=status,
                message=f"测试问题 {n}", evidence={},
            )
        )  # fmt: skip
    session.add(
        CredibilityScore(enterprise_id=ids[JINAN], period="2025-03", score=82.5, deductions=[])
    )
    session.commit()
