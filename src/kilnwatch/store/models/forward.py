"""Forwarding to other platforms (接入现有监测系统): targets, their devices, the durable queue.

A *target* is another platform's HJ 212 receiver (a ministry or city platform) to which this
platform acts as a data logger. Each forwarded *device* maps one of our gateways to an MN and
password upstream; its meters are chosen by HJ 212 factor code (``pollutants``) or one by one
(``forward_meters``, with the factor code to send under).

``forward_frames`` is the per-target queue: one row per frame to deliver, with the QN and the
data area fixed when it is queued (a retry resends the same request), its attempts, the time
of the next attempt and its state (``pending``, ``acked``, ``dead``). ``forward_items`` marks
which readings (meter, ts, version) went into which frame, so that a reading is queued once
per target however often the selector sees it.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import BIG_ID, Base, UTCDateTime, utcnow

PENDING, ACKED, DEAD = "pending", "acked", "dead"
FRAME_STATES = (PENDING, ACKED, DEAD)


class ForwardTarget(Base):
    """Another platform's receiver this platform forwards to, with its delivery policy."""

    __tablename__ = "forward_targets"
    __audit_secret__ = ("password",)  # logged as changed, never its value

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    protocol: Mapped[str] = mapped_column(String(10), default="hj212")
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    edition: Mapped[str] = mapped_column(String(4))  # 2005 | 2017 | 2025 (Flag version bits)
    st: Mapped[str] = mapped_column(String(2))  # HJ 212 system code sent upstream
    password: Mapped[str] = mapped_column(String(64))  # PW upstream: sent in clear by HJ 212
    ack_timeout_s: Mapped[float] = mapped_column(Float)
    max_attempts: Mapped[int] = mapped_column(SmallInteger)
    backoff_initial_s: Mapped[float] = mapped_column(Float)
    backoff_max_s: Mapped[float] = mapped_column(Float)
    late_window_s: Mapped[int] = mapped_column(Integer)
    window_frames: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())  # readings from here on
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ForwardDevice(Base):
    """One of our gateways as a device (MN) of a target."""

    __tablename__ = "forward_devices"
    __audit_secret__ = ("password",)  # logged as changed, never its value
    __table_args__ = (
        UniqueConstraint("target_id", "gateway_id", name="uq_forward_devices_target_id_gateway_id"),
        UniqueConstraint("target_id", "mn", name="uq_forward_devices_target_id_mn"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("forward_targets.id"), index=True)
    gateway_id: Mapped[int] = mapped_column(ForeignKey("gateways.id"))
    mn: Mapped[str] = mapped_column(String(32))
    password: Mapped[str | None] = mapped_column(String(64))  # None: the target's
    pollutants: Mapped[str | None] = mapped_column(String(500))  # factor codes, ","-separated


class ForwardMeter(Base):
    """A meter chosen one by one for a forwarded device, and the factor code it is sent as."""

    __tablename__ = "forward_meters"

    device_id: Mapped[int] = mapped_column(ForeignKey("forward_devices.id"), primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), primary_key=True)
    factor_code: Mapped[str] = mapped_column(String(16))


class ForwardFrame(Base):
    """One queued frame of a target: QN and data area fixed, attempts and state."""

    __tablename__ = "forward_frames"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)
    __table_args__ = (
        Index("ix_forward_frames_target_id_state_next", "target_id", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("forward_targets.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("forward_devices.id"))
    qn: Mapped[str] = mapped_column(String(20))
    data_time: Mapped[datetime] = mapped_column(UTCDateTime())
    cp: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(8), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))


class ForwardItem(Base):
    """A reading queued for a target (no foreign key to meters, like ``readings``)."""

    __tablename__ = "forward_items"
    __audited__ = False  # operational or derived: not a record people keep (store/audit.py)

    target_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    frame_id: Mapped[int] = mapped_column(ForeignKey("forward_frames.id"), index=True)
