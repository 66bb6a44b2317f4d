"""Metering census (issue 18): the required instrument positions and calibration records.

The instruments themselves are :class:`~kilnwatch.store.models.registry.Meter` rows (level,
carrier, accuracy class, current calibration dates); this module adds what the census needs
besides them:

* :class:`MeteringPoint`, a position where GB 17167 requires an instrument (its 理论需要量,
  clause 3.2 note), installed (``meter_id`` set) or missing;
* :class:`MeterCalibration`, one verification or calibration certificate of a meter.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kilnwatch.store.models.base import Base
from kilnwatch.store.models.registry import Enterprise, Meter, ProductionUnit


class MeteringPoint(Base):
    """A position that needs an energy metering instrument (计量点), per GB 17167-2006 3.2.

    The configuration rate (配备率) of a level and carrier is the share of its points with
    an installed meter. ``accuracy_variant`` picks the accuracy requirement row (electricity
    user class, static or dynamic weighing, pipe diameter); empty means the default row.
    ``planned_on`` is the date by which a missing instrument is to be installed (整改).
    """

    __tablename__ = "metering_points"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "code", name="uq_metering_points_enterprise_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(12))  # entry | sub_unit | equipment
    carrier: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("production_units.id"))
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meters.id"), unique=True)
    accuracy_variant: Mapped[str | None] = mapped_column(String(24))
    planned_on: Mapped[date | None] = mapped_column(Date)

    enterprise: Mapped[Enterprise] = relationship()
    unit: Mapped[ProductionUnit | None] = relationship()
    meter: Mapped[Meter | None] = relationship()


class MeterCalibration(Base):
    """A verification (检定) or calibration (校准) certificate of a meter.

    The latest certificate also sets the meter's ``calibrated_on`` / ``calibration_due_on``
    (the registry keeps the current state; this table keeps the history). ``result`` is the
    meter's status after it: ``pass`` (合格), ``conditional`` (准用) or ``fail`` (停用), the
    three states of the GB 17167-2006 instrument list.
    """

    __tablename__ = "meter_calibrations"
    __table_args__ = (
        UniqueConstraint("meter_id", "certificate_no", name="uq_meter_calibrations_meter_cert"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    certificate_no: Mapped[str] = mapped_column(String(64))
    calibrated_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(12))
    certificate_file: Mapped[str | None] = mapped_column(String(300))

    meter: Mapped[Meter] = relationship()
