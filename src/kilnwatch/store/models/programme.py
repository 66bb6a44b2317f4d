"""The efficiency programme (issue 17): level determinations, retrofit plans (一企一策) with
milestones, and measured savings of retrofits.

A determination keeps what each party said and the table it was judged against: the
enterprise's declared class with its evidence, the class the platform computed from metered
data (with the level table id and edition), and the expert's decision. A newer level table
adds a new determination; it never rewrites an old one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow
from kilnwatch.store.models.registry import Enterprise, ProductionUnit


class LevelDetermination(Base):
    """核查认定: one unit's efficiency level over one period, as declared, computed, decided."""

    __tablename__ = "programme_determinations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("production_units.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    period: Mapped[str] = mapped_column(String(32))
    level_field: Mapped[str] = mapped_column(String(48))
    computed_intensity: Mapped[float | None] = mapped_column(Float)
    intensity_unit: Mapped[str | None] = mapped_column(String(32))
    computed_class: Mapped[str | None] = mapped_column(String(24))
    computed_table: Mapped[str | None] = mapped_column(String(64))
    """The level table (``ndrc_2023``, ``GB 16780-2021``, ``province:<name>``) judged against."""
    computed_table_edition: Mapped[int | None] = mapped_column(Integer)
    computed_notes: Mapped[str] = mapped_column(Text, default="")
    unclassified_code: Mapped[str | None] = mapped_column(String(48))
    """Why no class was computed (``level.unclassified.*``), None when classified."""
    energy_factor: Mapped[float | None] = mapped_column(Float)
    """The refinery energy factor (能量因数) the intensity was computed with, if any."""
    declared_class: Mapped[str | None] = mapped_column(String(24))
    declared_intensity: Mapped[float | None] = mapped_column(Float)
    declared_evidence: Mapped[str | None] = mapped_column(Text)
    declared_by: Mapped[str | None] = mapped_column(String(64))
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_class: Mapped[str | None] = mapped_column(String(24))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_evidence: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="computed")
    """computed | declared | differs | decided"""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[ProductionUnit] = relationship()
    enterprise: Mapped[Enterprise] = relationship()


class EnergyFactor(Base):
    """A refinery's energy factor (能量因数, GB 30251-2024) from a date on, with its evidence.

    Rows are never rewritten: a new factor (a new process unit, a re-declaration) is a new row
    valid from its own date, so earlier periods keep the factor they were judged with.
    """

    __tablename__ = "programme_energy_factors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("production_units.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    energy_factor: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[ProductionUnit] = relationship()


class ExitGround(Base):
    """A determination that a unit does or does not meet one of the standards low-efficiency
    capacity exits by (safety, environment, technology, quality; energy is judged from the
    levels), with the standard cited, the evidence, who determined it and when.

    Rows are never rewritten: a later determination of the same kind is a new row, and the
    latest one per unit and kind is the one in force.
    """

    __tablename__ = "programme_exit_grounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("production_units.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """safety | environment | technology | quality (``reference.programme.EXIT_KINDS``)."""
    standard: Mapped[str] = mapped_column(String(200))
    """The standard or document cited (e.g. ``GB 28662-2012``)."""
    finding: Mapped[str] = mapped_column(String(16))
    """breach (the unit does not meet it: an exit ground) | meets."""
    evidence: Mapped[str] = mapped_column(Text)
    determined_by: Mapped[str] = mapped_column(String(64))
    """Who determined it (the authority or expert named), as recorded."""
    determined_on: Mapped[date] = mapped_column(Date)
    deadline_on: Mapped[date | None] = mapped_column(Date)
    """The exit or rectification deadline the determination sets, if any."""
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[ProductionUnit] = relationship()


class RetrofitPlan(Base):
    """一企一策: an enterprise's retrofit plan for one unit below the baseline."""

    __tablename__ = "programme_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("production_units.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    measures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{name, investment_cny, expected_saving_tce_per_year}]"""
    investment_cny: Mapped[float] = mapped_column(Float)
    expected_saving_tce_per_year: Mapped[float] = mapped_column(Float)
    responsible: Mapped[str] = mapped_column(String(200))
    start_on: Mapped[date] = mapped_column(Date)
    deadline_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    """draft | submitted | city_reviewed | approved | rejected | completed"""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """[{at, by, action, from, to, note}]: every transition with who and why."""

    unit: Mapped[ProductionUnit] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    milestones: Mapped[list[PlanMilestone]] = relationship(
        back_populates="plan", order_by="PlanMilestone.due_on", cascade="all, delete-orphan"
    )


class PlanMilestone(Base):
    """A dated step of a plan; overdue and not done means the plan slips."""

    __tablename__ = "programme_milestones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("programme_plans.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[RetrofitPlan] = relationship(back_populates="milestones")


class SavingsVerification(Base):
    """Measured savings of a retrofit (M&V), with the model, statistics and adjustments."""

    __tablename__ = "programme_savings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("production_units.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("programme_plans.id"), index=True)
    effective_on: Mapped[date] = mapped_column(Date)
    baseline_first: Mapped[date] = mapped_column(Date)
    baseline_last: Mapped[date] = mapped_column(Date)
    reporting_first: Mapped[date] = mapped_column(Date)
    reporting_last: Mapped[date] = mapped_column(Date)
    savings_tce: Mapped[float] = mapped_column(Float)
    savings_fraction: Mapped[float] = mapped_column(Float)
    uncertainty_fraction: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    significant: Mapped[bool] = mapped_column()
    cv_rmse: Mapped[float] = mapped_column(Float)
    reporting_class: Mapped[str | None] = mapped_column(String(24))
    reporting_table: Mapped[str | None] = mapped_column(String(64))
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{energy_tce, reason, recorded_by}]"""
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The model, the result and the warnings (``UnitSavings.to_json``)."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[ProductionUnit] = relationship()
