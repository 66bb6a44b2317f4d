"""The optional TOTP second factor of people's accounts (RFC 6238 with pyotp; docs/security.md
"Second factor"). Flushes, never commits.

Parameters: SHA-1, 6 digits, 30-second steps (the defaults every authenticator app reads from
an ``otpauth://`` URI), a 160-bit random secret, one step of clock drift either way. A code is
accepted only for a time step later than the last accepted one, so an observed code cannot be
replayed. Ten one-time recovery codes (50 random bits each) are stored as SHA-256 hashes and
struck off when used.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError
from kilnwatch.store.models import User, UserTotp
from kilnwatch.store.models.base import utcnow

ISSUER = "kilnwatch"
STEP_S = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def totp_of(session: Session, user_id: int) -> UserTotp | None:
    return session.get(UserTotp, user_id)


def totp_enabled(session: Session, user_id: int) -> bool:
    row = session.get(UserTotp, user_id)
    return row is not None and row.enabled


def begin_enrolment(session: Session, user: User) -> tuple[str, str]:
    """A new secret for ``user`` (not yet required at sign-in): ``(secret, otpauth URI)``.

    Refused while a confirmed factor exists (disable it first)."""
    row = session.get(UserTotp, user.id)
    if row is not None and row.enabled:
        raise InputError("a second factor is already enabled; disable it first", field="totp")
    secret = pyotp.random_base32()  # 32 base32 characters = 160 bits (RFC 4226 §4 R6)
    if row is None:
        row = UserTotp(user_id=user.id, secret=secret, enabled=False, recovery_hashes=[])
        session.add(row)
    else:
        row.secret, row.last_step = secret, None
    session.flush()
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )
    return secret, uri


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def _new_recovery_codes() -> list[str]:
    out = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        out.append(f"{raw[:5]}-{raw[5:]}")
    return out


def _accept_step(row: UserTotp, code: str, now: float) -> bool:
    """``code`` matches a step within the drift later than the last accepted one: remember it."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return False
    totp = pyotp.TOTP(row.secret, digits=DIGITS, interval=STEP_S)
    current = int(now) // STEP_S
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if row.last_step is not None and step <= row.last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            row.last_step = step
            return True
    return False


def confirm_enrolment(
    session: Session, user: User, code: str, now: float | None = None
) -> list[str]:
    """Enable the pending secret when ``code`` is right; the ten recovery codes, shown once."""
    row = session.get(UserTotp, user.id)
    if row is None or row.enabled:
        raise InputError("no enrolment in progress", field="totp")
    if not _accept_step(row, code, time.time() if now is None else now):
        raise InputError("wrong code", field="code")
    codes = _new_recovery_codes()
    row.recovery_hashes = [_hash_recovery(c) for c in codes]
    row.enabled, row.enabled_at = True, utcnow()
    session.flush()
    return codes


def check_second_factor(
    session: Session, user_id: int, code: str, now: float | None = None
) -> bool:
    """A current TOTP code (not replayed) or an unused recovery code (struck off)."""
    row = session.get(UserTotp, user_id)
    if row is None or not row.enabled or not code:
        return False
    if _accept_step(row, code, time.time() if now is None else now):
        session.flush()
        return True
    digest = _hash_recovery(code)
    for stored in row.recovery_hashes:
        if hmac.compare_digest(stored, digest):
            row.recovery_hashes = [h for h in row.recovery_hashes if h != stored]
            session.flush()
            return True
    return False


def remove_totp(session: Session, username: str) -> bool:
    """Drop ``username``'s second factor (its own disable, or an administrator's reset)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise InputError(f"unknown user {username!r}", field="username")
    row = session.get(UserTotp, user.id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
