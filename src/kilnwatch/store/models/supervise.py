"""Supervision (业务管理): inspection rounds, special supervision, rectification, penalties
(quota deductions) and complaints, with who did what and when.

Every workflow object is one :class:`SupervisionItem` (``kind``: ``rectification``,
``special``, ``penalty``, ``complaint``): one work queue, one history (:class:`SupervisionEvent`),
one set of evidence files, one assignee, acknowledgement and escalation level for all of them
(issue 15, "accountability"). Kind-specific figures live in their own tables (quota deductions)
or in the item's nullable columns. An item is recorded once and referenced, never re-entered:
``(kind, source_code, source_ref)`` is unique, so the same finding or on-site check opens one
rectification however often it is sent.

The half-yearly joint inspection (联合检查) is a round of groups and visits; a visit holds the
ten-item checklist with the platform's figure next to the inspector's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow


class UserDepartment(Base):
    """The department (部门) a user works for: "谁考核、谁掌握数据"."""

    __tablename__ = "user_departments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    department: Mapped[str] = mapped_column(String(32))


class SupervisionItem(Base):
    """One rectification, special supervision, penalty or complaint and its current state."""

    __tablename__ = "supervision_items"
    __table_args__ = (
        UniqueConstraint("kind", "source_code", "source_ref", name="uq_supervision_items_source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    """Required action (rectification), scope (special), complaint text, or grounds (penalty)."""
    response: Mapped[str] = mapped_column(Text, default="")
    """The enterprise's response, the outcome of a special supervision, or the reply."""
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    source_code: Mapped[str] = mapped_column(String(40))
    source_ref: Mapped[str | None] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_items.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    assignee: Mapped[str] = mapped_column(String(64), index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    team: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str | None] = mapped_column(String(16))
    complainant: Mapped[str | None] = mapped_column(String(100))
    complainant_contact: Mapped[str | None] = mapped_column(String(100))
    legal_basis: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SupervisionEvent(Base):
    """One thing done to an item: a transition, a comment, an acknowledgement, an assignment,
    an escalation; with who, when and why."""

    __tablename__ = "supervision_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_items.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SupervisionEvidence(Base):
    """A file (photo, document) attached to an item, kept by its SHA-256 under ``var_dir``."""

    __tablename__ = "supervision_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_items.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")
    uploaded_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SupervisionNotice(Base):
    """A notification for one user about one item (assigned, overdue, escalated, …), kept
    when the user's preferences ask for that event."""

    __tablename__ = "supervision_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_items.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NoticePreference(Base):
    """A user's choice to be notified (or not) of one kind of event."""

    __tablename__ = "supervision_notice_prefs"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)


class QuotaAllocation(Base):
    """A period's quota (output, energy or coal) of a city or of one of its enterprises."""

    __tablename__ = "quota_allocations"
    __table_args__ = (
        UniqueConstraint(
            "region_code", "enterprise_id", "period", "quota", name="uq_quota_allocations_key"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    period: Mapped[str] = mapped_column(String(32))
    quota: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(300), default="")


class QuotaDeduction(Base):
    """A deduction a penalty item imposes on an enterprise's and its city's quota; it counts
    once its penalty is decided."""

    __tablename__ = "quota_deductions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("supervision_items.id", ondelete="CASCADE"), index=True
    )
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    period: Mapped[str] = mapped_column(String(32))
    quota: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))


class InspectionRound(Base):
    """A half-yearly joint inspection round (e.g. ``2025H1``) and how it was planned."""

    __tablename__ = "inspection_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    groups: Mapped[int] = mapped_column(Integer)
    tolerance_fraction: Mapped[float] = mapped_column(Float)
    department: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    excluded: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InspectionGroup(Base):
    """One joint inspection group of a round and the city its members come from."""

    __tablename__ = "inspection_groups"
    __table_args__ = (UniqueConstraint("round_id", "number", name="uq_inspection_groups_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_rounds.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    home_city: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    load: Mapped[float] = mapped_column(Float, default=0.0)


class InspectionVisit(Base):
    """One enterprise visited by one group in a round (never two visits in a round)."""

    __tablename__ = "inspection_visits"
    __table_args__ = (
        UniqueConstraint("round_id", "enterprise_id", name="uq_inspection_visits_enterprise"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_rounds.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("inspection_groups.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    planned_on: Mapped[date] = mapped_column(Date)
    load: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    done_on: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str | None] = mapped_column(String(64))


class InspectionCheck(Base):
    """One checklist item of a visit: the platform's figure, the inspector's, the gap."""

    __tablename__ = "inspection_checks"
    __table_args__ = (UniqueConstraint("visit_id", "item", name="uq_inspection_checks_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_visits.id", ondelete="CASCADE"), index=True
    )
    item: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(16))
    platform_value: Mapped[float | None] = mapped_column(Float)
    checked_value: Mapped[float | None] = mapped_column(Float)
    deviation_fraction: Mapped[float | None] = mapped_column(Float)
    ok: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(String(500), default="")


class NoticeContact(Base):
    """A user's e-mail address for supervision notices, and whether they want them by e-mail
    as well as in the inbox."""

    __tablename__ = "supervision_contacts"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    by_email: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMail(Base):
    """An e-mail to send (a notice to a user, a complaint's reply to the complainant): kept
    until sent, with the attempts and the last error (``kilnwatch supervise send-mail``)."""

    __tablename__ = "supervision_outbox"
    __audited__ = False  # operational: delivery bookkeeping

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervision_items.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    """``notice`` (to a user) or ``reply`` (a complaint's reply to the complainant)."""
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
