"""Time-series readings and the ingest batches that delivered them.

Readings are immutable: a correction is a new row with a higher ``version``; the unique key
(meter, timestamp, version) makes repeated deliveries harmless.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import BIG_ID, Base, UTCDateTime, utcnow

# Stable small integers for the ``source`` column (compact on disk); the names are the API.
SOURCE_CODES: dict[str, int] = {
    "file": 1,
    "http": 2,
    "mqtt": 3,
    "hj212": 4,
    "manual": 5,
    "simulator": 6,
}
SOURCE_NAMES: dict[int, str] = {v: k for k, v in SOURCE_CODES.items()}


class IngestBatch(Base):
    """One delivery: a file, an HTTP request, an MQTT message batch or a TCP frame batch."""

    __tablename__ = "ingest_batches"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    source: Mapped[int] = mapped_column(SmallInteger)
    source_ref: Mapped[str] = mapped_column(String(300))  # file path, gateway code, MN, topic
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("gateways.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)


class Reading(Base):
    """A metered value: meter, time, version, value in the meter's unit, flag and source."""

    __tablename__ = "readings"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    # No foreign key to meters (migration 0004): ingest validation looks every meter up before
    # storage and meters are never deleted; the per-row check dominated bulk load time.
    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    value: Mapped[float] = mapped_column(Float)
    flag: Mapped[str | None] = mapped_column(String(2))
    source: Mapped[int] = mapped_column(SmallInteger)
    batch_id: Mapped[int | None] = mapped_column(BIG_ID)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
