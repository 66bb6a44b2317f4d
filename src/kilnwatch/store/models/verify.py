"""Cross-verification: external sources (statistics, tax, logistics, grid, prices), findings,
credibility scores and verification runs.

Source rows keep the file and row they came from (``source_file``, ``source_row``) so that a
finding's evidence can point at the raw record. Findings carry a stable ``fingerprint``
(rule, enterprise, unit, meter, period) so re-running verification updates a finding instead
of duplicating it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow


class SourceRow:
    """The columns of a row imported from an external-source file: the file and the row it
    came from (a finding's evidence points at the raw record) and when it was imported."""

    source_file: Mapped[str] = mapped_column(String(300), default="")
    source_row: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatisticalReport(SourceRow, Base):
    """One item of an enterprise's monthly statistical report (统计报表)."""

    __tablename__ = "statistical_reports"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "period", "item", name="uq_statreport_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    item: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))


class TaxInvoice(SourceRow, Base):
    """A VAT invoice line (增值税发票): a purchase or a sale of a carrier or product."""

    __tablename__ = "tax_invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_no: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    direction: Mapped[str] = mapped_column(String(10))  # purchase | sale
    item: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    amount_cny: Mapped[float] = mapped_column(Float)


class LogisticsWaybill(SourceRow, Base):
    """A rail or road waybill (物流运单) into or out of an enterprise."""

    __tablename__ = "logistics_waybills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    waybill_no: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    shipped_on: Mapped[date] = mapped_column(Date, index=True)
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    mode: Mapped[str] = mapped_column(String(8))  # rail | road
    item: Mapped[str] = mapped_column(String(60))
    quantity_t: Mapped[float] = mapped_column(Float)


class GridElectricity(SourceRow, Base):
    """Monthly electricity the grid company billed an enterprise (电网公司用电量)."""

    __tablename__ = "grid_electricity"
    __table_args__ = (UniqueConstraint("enterprise_id", "period", name="uq_grid_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    electricity_kwh: Mapped[float] = mapped_column(Float)


class MarketPrice(SourceRow, Base):
    """A monthly market price of a product or carrier (市场价格), for revenue checks."""

    __tablename__ = "market_prices"
    __table_args__ = (UniqueConstraint("period", "item", name="uq_price_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    item: Mapped[str] = mapped_column(String(60))
    price_cny_per_unit: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))


class VerificationRun(Base):
    """One run of verification (batch or incremental) and what it changed."""

    __tablename__ = "verification_runs"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(12))  # batch | incremental
    periods: Mapped[str] = mapped_column(String(200))
    enterprises: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    findings_new: Mapped[int] = mapped_column(Integer, default=0)
    findings_updated: Mapped[int] = mapped_column(Integer, default=0)
    findings_closed: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class FindingRecord(Base):
    """A verification finding: rule code, where, evidence, severity, magnitude and status."""

    __tablename__ = "findings"
    __audit_ignore__ = ("last_seen_at", "run_id")  # touched by every verification run

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    rule_code: Mapped[str] = mapped_column(String(100), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("production_units.id"))
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meters.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    severity: Mapped[str] = mapped_column(String(8), index=True)  # info | low | medium | high
    status: Mapped[str] = mapped_column(String(10), index=True, default="open")
    message: Mapped[str] = mapped_column(String(500))
    magnitude_fraction: Mapped[float | None] = mapped_column(Float)
    magnitude_tce: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("verification_runs.id"))


class CredibilityScore(Base):
    """An enterprise's data-credibility score for a period (0-100), explained by findings."""

    __tablename__ = "credibility_scores"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)
    __table_args__ = (UniqueConstraint("enterprise_id", "period", name="uq_credibility_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    score: Mapped[float] = mapped_column(Float)
    open_findings: Mapped[int] = mapped_column(Integer, default=0)
    deductions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
