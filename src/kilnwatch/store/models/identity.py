"""Users with a role and a jurisdiction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kilnwatch.store.models.base import Base, UTCDateTime, utcnow


class User(Base):
    """A person using kilnwatch. Jurisdiction: a region (province/city/county users,
    inspectors, auditors) or one enterprise (enterprise users); admins see everything."""

    __tablename__ = "users"
    __audit_secret__ = ("password_hash",)  # logged as changed, never its value

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SignInFailure(Base):
    """A failed sign-in (wrong password, unknown or disabled user), kept for throttling: too
    many for one account or from one address in a window refuse further attempts for a while
    (OWASP ASVS 4.0.3 V2.2.1, anti-automation against credential stuffing and brute force)."""

    __tablename__ = "sign_in_failures"
    __audited__ = False  # operational: counted, then expired

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)


class UserTotp(Base):
    """A user's TOTP second factor (RFC 6238; docs/security.md "Second factor"): the shared
    secret (base32, stored sealed with the key kept outside the database, ``kilnwatch/keyfile.py``;
    shown once at enrolment, never returned or logged after), whether it is
    confirmed and required at sign-in, SHA-256 hashes of the unused one-time recovery codes, and
    the last accepted time step (a code of that step or an earlier one is refused: no replay)."""

    __tablename__ = "user_totp"
    __audit_secret__ = ("secret", "recovery_hashes")  # logged as changed, never by value

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(255))  # sealed (kilnwatch/keyfile.py)
    enabled: Mapped[bool] = mapped_column(default=False)
    recovery_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
