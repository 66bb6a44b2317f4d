"""Ingest bookkeeping: rejected values (dead letters) and incrementally kept rollups.

A dead letter keeps the rejected payload row verbatim with a stable dotted reason code, so
nothing a device sent is lost even when it cannot be stored as a reading.

A rollup row summarises one meter over one period (``grain``: ``hour``, ``day``, ``month``).
``sum`` is the consumption for ``counter`` meters (differences of the register), the total
for ``interval`` meters and the sum of samples for ``instant`` meters (mean = sum / count).
``first``/``last`` are the raw values at ``first_ts``/``last_ts``.

A delivery repeat records that a reading arrived again with the value already stored for its
(meter, ts): the store keeps one copy, and this row keeps the evidence of the repeated
delivery (when and in which batch), so verification can tell an occasional re-send after a
timeout from bursts or systematic re-sends (``verify.timeseries.duplicates``).

An emission hour is the hourly rollup of a monitored analyser (CEMS, wastewater: the carriers
of ``reference.emissions.MONITORED_CARRIERS``): what the HJ 75-2017 hourly rules need of its
readings in the hour ``(period_start, period_start + 1 h]`` (HJ 212 stamps the period's end):
how many readings, how many with a valid flag and a stop flag, the sums of the valid and of
all values (added one by one in time order), and the spacings of consecutive readings within
the hour (``steps``: ``"900:3"``, spacing [s] and count, comma-separated by spacing). Kept at
ingest and by recompute (``store/rollups/emission_hours.py``); the emissions pages, reports
and API read it instead of the readings.

A log inbox row records that a writer of the ingest log committed the readings of one log
message (its ``Nats-Msg-Id``), in the same transaction: a redelivery of that message is
recognised by its id whatever was stored since (a correction of the same reading included),
where the store's dedup by value would take it for a new version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import BIG_ID, Base, UTCDateTime, utcnow


class DeadLetter(Base):
    """A rejected value with the row as received and why it was refused."""

    __tablename__ = "dead_letters"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    source: Mapped[int] = mapped_column(SmallInteger)
    source_ref: Mapped[str] = mapped_column(String(300))
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("gateways.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(BIG_ID)
    row_no: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Rollup(Base):
    """Per-meter aggregate over an hour, a day or a month (periods in the platform zone)."""

    __tablename__ = "rollups"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), primary_key=True)
    grain: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    sum: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    first: Mapped[float] = mapped_column(Float)
    last: Mapped[float] = mapped_column(Float)
    first_ts: Mapped[datetime] = mapped_column(UTCDateTime())
    last_ts: Mapped[datetime] = mapped_column(UTCDateTime())
    resets: Mapped[int] = mapped_column(Integer, default=0)
    rollovers: Mapped[int] = mapped_column(Integer, default=0)


class EmissionHour(Base):
    """One monitored analyser over one clock hour ``(period_start, period_start + 1 h]``."""

    __tablename__ = "emission_hours"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    readings: Mapped[int] = mapped_column(Integer)
    valid: Mapped[int] = mapped_column(Integer)
    stopped: Mapped[int] = mapped_column(Integer)
    valid_sum: Mapped[float] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float)
    steps: Mapped[str] = mapped_column(Text)


class DeliveryRepeat(Base):
    """One delivery of a reading equal to the stored one (same meter, ``ts`` and value).

    Like ``readings``, no foreign key to meters (migration 0004): rows are written by the
    bulk store for meters that validation has just looked up.
    """

    __tablename__ = "delivery_repeats"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)
    __table_args__ = (Index("ix_delivery_repeats_meter_id_ts", "meter_id", "ts"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    meter_id: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    batch_id: Mapped[int | None] = mapped_column(BIG_ID)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LogInbox(Base):
    """A log message (``Nats-Msg-Id``) whose readings a writer committed, and when.

    Rows older than the inbox horizon are deleted by the writers
    (:func:`kilnwatch.store.repos.inbox.expire_inbox`).
    """

    __tablename__ = "log_inbox"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    msg_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
