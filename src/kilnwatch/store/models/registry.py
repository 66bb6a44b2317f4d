"""Registry: regions, enterprises, production units, "两高" projects, gateways, meters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow


class Region(Base):
    """Administrative division (区划), GB/T 2260 six-digit code."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64), default="")
    level: Mapped[str] = mapped_column(String(10))  # province | city | county
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)


class Enterprise(Base):
    """Enterprise (企业), keyed by its GB 32100 unified social credit code."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    industry: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(24), default="operating")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    units: Mapped[list[ProductionUnit]] = relationship(back_populates="enterprise")
    region: Mapped[Region] = relationship()


class ProductionUnit(Base):
    """Production unit (生产单元): a clinker line, a coke oven battery, a potline, …"""

    __tablename__ = "production_units"
    __table_args__ = (UniqueConstraint("enterprise_id", "code", name="uq_unit_enterprise_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    process: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[float] = mapped_column(Float)
    capacity_unit: Mapped[str] = mapped_column(String(16))
    commissioned_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24), default="operating")
    level_variant: Mapped[str | None] = mapped_column(String(48))
    """Sub-type the level tables distinguish (e.g. ``ultra_supercritical_600mw``)."""
    equipment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Equipment attributes (``reference/programme/equipment_attributes.csv``): furnace volume,
    kiln type, furnace enclosure, … the obsolete-equipment rules read (migration 0042)."""

    enterprise: Mapped[Enterprise] = relationship(back_populates="units")


project_units = Table(
    "project_units",
    Base.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("production_units.id", ondelete="CASCADE"), primary_key=True),
)


class Project(Base):
    """A "两高" project (两高项目): new, under construction or existing."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("enterprise_id", "code", name="uq_project_enterprise_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(24))
    """One of :data:`kilnwatch.domain.projects.STAGES`."""
    approval_state: Mapped[str] = mapped_column(String(24))
    capacity: Mapped[float | None] = mapped_column(Float)
    """New capacity the project builds [``capacity_unit``] (None: adds none)."""
    capacity_unit: Mapped[str | None] = mapped_column(String(16))
    replacement_kind: Mapped[str | None] = mapped_column(String(32))
    """Kind of capacity replaced (``reference/projects/replacement_ratios.csv``); None: none."""
    replacement_ratio: Mapped[float | None] = mapped_column(Float)
    """Ratio set by the approval document where the policy table has none [-]."""
    coal_t_per_year: Mapped[float | None] = mapped_column(Float)
    """New coal consumption the project adds [t/a] (None: none)."""
    stage_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    enterprise: Mapped[Enterprise] = relationship()
    units: Mapped[list[ProductionUnit]] = relationship(secondary=project_units)


class Gateway(Base):
    """A data gateway or monitoring device (采集网关 / 数采仪) with its own credentials."""

    __tablename__ = "gateways"
    __audit_secret__ = ("secret_hash",)  # logged as changed, never its value

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    protocol: Mapped[str] = mapped_column(String(10))  # http | mqtt | hj212
    mn: Mapped[str | None] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    hj212_compat: Mapped[str | None] = mapped_column(String(200))
    """Known HJ 212 deviations this device may send (``crc_modbus,lf_only``…); empty = strict."""


class Meter(Base):
    """A metering instrument (计量器具), GB 17167 level and carrier."""

    __tablename__ = "meters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("production_units.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(12))  # entry | sub_unit | equipment
    parent_meter_id: Mapped[int | None] = mapped_column(ForeignKey("meters.id"))
    measurement: Mapped[str] = mapped_column(String(10))  # counter | interval | instant
    unit_of_measure: Mapped[str] = mapped_column(String(16))
    accuracy_class: Mapped[str | None] = mapped_column(String(16))
    calibrated_on: Mapped[date | None] = mapped_column(Date)
    calibration_due_on: Mapped[date | None] = mapped_column(Date)
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("gateways.id"), index=True)
    hj212_code: Mapped[str | None] = mapped_column(String(16))
    water_source: Mapped[str | None] = mapped_column(String(24))
    """Water meters: the withdrawal source (``reference/emissions/water_sources.csv``)."""

    enterprise: Mapped[Enterprise] = relationship()
    unit: Mapped[ProductionUnit | None] = relationship()
    gateway: Mapped[Gateway | None] = relationship()
    parent: Mapped[Meter | None] = relationship(remote_side=[id])
