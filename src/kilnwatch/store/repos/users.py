"""Users: add with a validated jurisdiction. Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError
from kilnwatch.identity import Role, check_jurisdiction, hash_password, password_needs_rehash
from kilnwatch.store.models import Enterprise, Region, User, WebSession

MIN_PASSWORD_CHARS = 8
"""NIST SP 800-63B §5.1.1.2: memorized secrets at least 8 characters."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"must be at least {MIN_PASSWORD_CHARS} characters", field="password")


def user_named(session: Session, username: str) -> User:
    """The user called ``username``; an unknown name is an input error on ``username``."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise InputError(f"unknown user {username!r}", field="username")
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """Change ``username``'s password (by the user, or reset by an administrator) and end every
    signed-in browser session of the user, so a leaked session cannot outlive the change."""
    _check_password(password)
    user = user_named(session, username)
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return user


def rehash_if_needed(user: User, password: str) -> None:
    """After a verified sign-in: a scrypt hash (or Argon2id with old parameters) becomes
    Argon2id of the same password, without the user doing anything."""
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


def add_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    region_code: str | None = None,
    enterprise_uscc: str | None = None,
    display_name: str = "",
) -> User:
    _check_password(password)
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
        password_hash=hash_password(password),
        role=role.value,
        region_code=region_code if role is not Role.ENTERPRISE else None,
        enterprise_id=enterprise_id,
    )
    session.add(user)
    session.flush()
    return user
