"""Pollutant discharge permits (排污许可证): permitted concentration and annual quantity.

One row per permit, stack (production unit; empty for the whole enterprise) and pollutant.
A permit row is data the enterprise holds, not a reference figure: the emission standards
are in ``reference/emissions/limits.csv``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import Base


class EmissionPermit(Base):
    __tablename__ = "emission_permits"
    __table_args__ = (UniqueConstraint("enterprise_id", "unit_id", "pollutant", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("production_units.id"), index=True)
    permit_no: Mapped[str] = mapped_column(String(40))
    pollutant: Mapped[str] = mapped_column(String(16))  # so2 | nox | dust
    concentration_mg_m3: Mapped[float | None] = mapped_column(Float)
    o2_ref_pct: Mapped[float | None] = mapped_column(Float)
    annual_t: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
