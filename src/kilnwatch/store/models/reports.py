"""Report schedules, the report archive and the e-mail deliveries of archived reports.

A schedule says which report (name, scope, format, language) a user wants, by which rule
(weekly or monthly: the previous complete period) and at what local time. Each due occurrence
becomes one archive row (unique per schedule and due time, so a second tick at the same time
generates nothing) with its file under ``var_dir``; each recipient of it one delivery row,
retried until sent or out of attempts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow


class ReportSchedule(Base):
    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    """Username whose jurisdiction the report is computed in."""
    report: Mapped[str] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(6))
    enterprise_uscc: Mapped[str | None] = mapped_column(String(18))
    rule: Mapped[str] = mapped_column(String(8))  # weekly | monthly
    weekday: Mapped[int] = mapped_column(Integer, default=1)  # ISO 1 = Monday (weekly)
    day_of_month: Mapped[int] = mapped_column(Integer, default=1)  # 1..28 (monthly)
    time_of_day: Mapped[str] = mapped_column(String(5))  # HH:MM, local time
    recipients: Mapped[list[str]] = mapped_column(JSON)
    format: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(8), default="zh-CN")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportArchive(Base):
    """A generated report file (scheduled or not) and how it came to be."""

    __tablename__ = "report_archive"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at", name="uq_report_archive_due"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("report_schedules.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64), index=True)
    report: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10))  # generated | failed
    error: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(String(400))
    """Relative to ``var_dir``."""
    filename: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportDelivery(Base):
    """One e-mail of one archived report to one recipient, with its attempts."""

    __tablename__ = "report_deliveries"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)
    __table_args__ = (
        UniqueConstraint("archive_id", "recipient", name="uq_report_delivery_recipient"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("report_archive.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    log: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Every attempt: ``{"at", "ok", "error"}``."""
