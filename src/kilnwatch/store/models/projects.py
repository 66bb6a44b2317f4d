""" "两高" projects and production control: approvals, the replacement and substitution ledgers,
stage changes, dispatch entries, monthly on-site supervision, production caps, resident
supervisors and their weekly logs, and the weekly joint reports with their signatures.

The project itself is :class:`kilnwatch.store.models.registry.Project` (one table, extended).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow
from kilnwatch.store.models.registry import Enterprise, Project


class ProjectApproval(Base):
    """An approval of a project: 节能审查, 环评 or 备案/核准, with its document."""

    __tablename__ = "project_approvals"
    __table_args__ = (UniqueConstraint("project_id", "kind", name="uq_project_approval_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12))
    authority: Mapped[str] = mapped_column(String(200), default="")
    document_no: Mapped[str] = mapped_column(String(120), default="")
    issued_on: Mapped[date | None] = mapped_column(Date)


class CapacityReplacement(Base):
    """A line of a project's capacity replacement ledger (产能置换): capacity retired elsewhere."""

    __tablename__ = "capacity_replacements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    source_name: Mapped[str] = mapped_column(String(200))
    """The retired plant and line (企业、装备)."""
    capacity: Mapped[float] = mapped_column(Float)
    capacity_unit: Mapped[str] = mapped_column(String(16))
    retired_on: Mapped[date | None] = mapped_column(Date)
    """When the capacity was dismantled (None: committed, not yet retired)."""
    document_no: Mapped[str] = mapped_column(String(120), default="")


class CoalSubstitution(Base):
    """A line of a project's coal reduction and substitution ledger (煤炭消费减量替代)."""

    __tablename__ = "coal_substitutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    source_kind: Mapped[str] = mapped_column(String(32))
    """``closure`` (关停), ``retrofit`` (节能改造), ``fuel_switch`` (煤改气/电), ``other``."""
    source_name: Mapped[str] = mapped_column(String(200))
    coal_t_per_year: Mapped[float] = mapped_column(Float)
    achieved_on: Mapped[date | None] = mapped_column(Date)
    document_no: Mapped[str] = mapped_column(String(120), default="")


class ProjectStageEvent(Base):
    """A request to move a project to another stage, granted or refused, with the reasons."""

    __tablename__ = "project_stage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(24))
    to_stage: Mapped[str] = mapped_column(String(24))
    granted: Mapped[bool] = mapped_column()
    blockers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DispatchEntry(Base):
    """A daily figure entered by the enterprise where no meter measures it (企业填报)."""

    __tablename__ = "dispatch_entries"
    __table_args__ = (
        UniqueConstraint("project_id", "day", "carrier", name="uq_dispatch_entry_day_carrier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[float] = mapped_column(Float)
    unit_of_measure: Mapped[str] = mapped_column(String(16))
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SiteVisit(Base):
    """A monthly on-site supervision (月度现场监管) of a project: checklist, findings, photos."""

    __tablename__ = "site_visits"
    __table_args__ = (UniqueConstraint("project_id", "month", name="uq_site_visit_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    """``YYYY-MM``: one visit per project and month."""
    visited_on: Mapped[date] = mapped_column(Date)
    inspectors: Mapped[str] = mapped_column(String(200))
    checklist: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Checklist item → ``ok`` | ``not_ok`` | ``na``."""
    findings: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    """File names under ``<var_dir>/site_photos/<visit id>/``."""
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship()
    follow_ups: Mapped[list[SiteFollowUp]] = relationship(back_populates="visit")


class SiteFollowUp(Base):
    """A follow-up of a visit: what must be rectified, by when, and its rectification."""

    __tablename__ = "site_follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("site_visits.id"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    requirement: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")
    """``open`` | ``done``."""
    rectification_ref: Mapped[str | None] = mapped_column(String(64))
    """The supervision workflow's rectification, once opened there."""

    visit: Mapped[SiteVisit] = relationship(back_populates="follow_ups")


class ProductionCap(Base):
    """A production control cap (限产) of an enterprise over a period: output, energy, coal."""

    __tablename__ = "production_caps"
    __table_args__ = (UniqueConstraint("enterprise_id", "period", name="uq_production_cap_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    period: Mapped[str] = mapped_column(String(24))
    """A period label (``2025-03``, ``2025-Q1``, ``2025``)."""
    product: Mapped[str] = mapped_column(String(40))
    """The product whose output is capped (``crude_steel``, ``coke``)."""
    output_t: Mapped[float | None] = mapped_column(Float)
    energy_tce: Mapped[float | None] = mapped_column(Float)
    coal_t: Mapped[float | None] = mapped_column(Float)
    document_no: Mapped[str] = mapped_column(String(120), default="")

    enterprise: Mapped[Enterprise] = relationship()


class ResidentSupervisor(Base):
    """A resident supervisor (驻企监管人员) assigned by a city or county to an enterprise."""

    __tablename__ = "resident_supervisors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(32))
    assigned_by_region: Mapped[str] = mapped_column(String(6))
    assigned_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    enterprise: Mapped[Enterprise] = relationship()


class ResidentLog(Base):
    """A resident supervisor's weekly log (驻企监管周志)."""

    __tablename__ = "resident_logs"
    __table_args__ = (UniqueConstraint("supervisor_id", "week", name="uq_resident_log_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("resident_supervisors.id"), index=True)
    week: Mapped[str] = mapped_column(String(8))
    """ISO week ``2025-W10``."""
    days_on_site: Mapped[int] = mapped_column(Integer)
    observed_output_t: Mapped[float | None] = mapped_column(Float)
    production_normal: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    written_by: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    supervisor: Mapped[ResidentSupervisor] = relationship()


class WeeklyReport(Base):
    """A city's weekly joint report (周报) of production-controlled enterprises.

    ``rows`` is the snapshot the departments sign: per enterprise the metered figures and the
    figures the city reports (equal unless a department corrected them).
    """

    __tablename__ = "weekly_reports"
    __table_args__ = (UniqueConstraint("city_code", "week", name="uq_weekly_report_city_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    week: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    """``draft`` → ``submitted``."""
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str | None] = mapped_column(String(64))

    signatures: Mapped[list[WeeklySignature]] = relationship(back_populates="report")


class WeeklySignature(Base):
    """One department's review and signature (会签) of a weekly report."""

    __tablename__ = "weekly_signatures"
    __table_args__ = (
        UniqueConstraint("report_id", "department", name="uq_weekly_signature_department"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("weekly_reports.id"), index=True)
    department: Mapped[str] = mapped_column(String(32))
    signer: Mapped[str] = mapped_column(String(64))
    opinion: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[WeeklyReport] = relationship(back_populates="signatures")


__all__ = [
    "CapacityReplacement",
    "CoalSubstitution",
    "DispatchEntry",
    "ProductionCap",
    "ProjectApproval",
    "ProjectStageEvent",
    "ResidentLog",
    "ResidentSupervisor",
    "SiteFollowUp",
    "SiteVisit",
    "WeeklyReport",
    "WeeklySignature",
]
