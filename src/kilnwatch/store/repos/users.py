"""Users: add with a validated jurisdiction. Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError
from kilnwatch.identity import Role, check_jurisdiction, hash_secret
from kilnwatch.store.models import Enterprise, Region, User


def add_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    region_code: str | None = None,
    enterprise_uscc: str | None = None,
    display_name: str = "",
) -> User:
    if len(password) < 8:
        raise InputError("must be at least 8 characters", field="password")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InputError(f"user {username!r} exists", field="username")
    enterprise_id = None
    if enterprise_uscc:
        enterprise_id = session.scalar(
            select(Enterprise.id).where(Enterprise.uscc == enterprise_uscc.upper())
        )
        if enterprise_id is None:
            raise InputError(f"unknown enterprise {enterprise_uscc}", field="enterprise")
    if region_code and session.get(Region, region_code) is None:
        raise InputError(f"unknown region {region_code}", field="region")
    check_jurisdiction(role, region_code, enterprise_id)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_secret(password),
        role=role.value,
        region_code=region_code if role is not Role.ENTERPRISE else None,
        enterprise_id=enterprise_id,
    )
    session.add(user)
    session.flush()
    return user
