"""The optional TOTP second factor of people's accounts (RFC 6238 with pyotp; docs/security.md
"Second factor"). Flushes, never commits.

Parameters: SHA-1, 6 digits, 30-second steps (the defaults every authenticator app reads from
an ``otpauth://`` URI), a 160-bit random secret, one step of clock drift either way. A code is
accepted only for a time step later than the last accepted one, so an observed code cannot be
replayed. Ten one-time recovery codes (50 random bits each) are stored as SHA-256 hashes and
struck off when used.

The secret is stored sealed: AES-256-GCM under the key kept outside the database
(:mod:`kilnwatch.keyfile`), bound to its user's row. A plaintext secret stored by an earlier
version is sealed when it is next used, by ``kilnwatch db upgrade`` and by ``kilnwatch user
totp-key create``/``rotate`` (:func:`seal_plaintext`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.errors import InputError, SecretKeyError
from kilnwatch.keyfile import KeyFile, KeyRing, is_sealed, sealed_key_id
from kilnwatch.store.models import User, UserTotp
from kilnwatch.store.models.base import utcnow
from kilnwatch.store.repos.users import user_named

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


def _context(user_id: int) -> str:
    """The associated data of a user's sealed secret: it opens on this row only."""
    return f"user_totp:{user_id}"


def _secret(row: UserTotp, keys: KeyFile) -> str:
    """The row's secret in clear; a plaintext one (an earlier version) is sealed now."""
    ring = keys.ring()
    if not is_sealed(row.secret):
        plain = row.secret
        row.secret = ring.seal(plain, _context(row.user_id))
        return plain
    return ring.open(row.secret, _context(row.user_id))


def begin_enrolment(session: Session, user: User, keys: KeyFile) -> tuple[str, str]:
    """A new secret for ``user`` (not yet required at sign-in): ``(secret, otpauth URI)``.

    Refused while a confirmed factor exists (disable it first). The secret is stored sealed
    with the current key of ``keys`` (an error naming the file when it is missing)."""
    row = session.get(UserTotp, user.id)
    if row is not None and row.enabled:
        raise InputError("a second factor is already enabled; disable it first", field="totp")
    secret = pyotp.random_base32()  # 32 base32 characters = 160 bits (RFC 4226 §4 R6)
    sealed = keys.ring().seal(secret, _context(user.id))
    if row is None:
        row = UserTotp(user_id=user.id, secret=sealed, enabled=False, recovery_hashes=[])
        session.add(row)
    else:
        row.secret, row.last_step = sealed, None
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


def _accept_step(row: UserTotp, code: str, now: float, keys: KeyFile) -> bool:
    """``code`` matches a step within the drift later than the last accepted one: remember it."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return False
    totp = pyotp.TOTP(_secret(row, keys), digits=DIGITS, interval=STEP_S)
    current = int(now) // STEP_S
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if row.last_step is not None and step <= row.last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            row.last_step = step
            return True
    return False


def confirm_enrolment(
    session: Session, user: User, code: str, keys: KeyFile, now: float | None = None
) -> list[str]:
    """Enable the pending secret when ``code`` is right; the ten recovery codes, shown once."""
    row = session.get(UserTotp, user.id)
    if row is None or row.enabled:
        raise InputError("no enrolment in progress", field="totp")
    if not _accept_step(row, code, time.time() if now is None else now, keys):
        raise InputError("wrong code", field="code")
    codes = _new_recovery_codes()
    row.recovery_hashes = [_hash_recovery(c) for c in codes]
    row.enabled, row.enabled_at = True, utcnow()
    session.flush()
    return codes


def check_second_factor(
    session: Session, user_id: int, code: str, keys: KeyFile, now: float | None = None
) -> bool:
    """A current TOTP code (not replayed) or an unused recovery code (struck off)."""
    row = session.get(UserTotp, user_id)
    if row is None or not row.enabled or not code:
        return False
    if _accept_step(row, code, time.time() if now is None else now, keys):
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
    row = session.get(UserTotp, user_named(session, username).id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def count_sealing(session: Session) -> dict[str, int]:
    """Stored secrets by the key that sealed them (``"plaintext"`` for unsealed ones)."""
    out: dict[str, int] = {}
    for value in session.scalars(select(UserTotp.secret)):
        kid = sealed_key_id(value) if is_sealed(value) else "plaintext"
        out[kid] = out.get(kid, 0) + 1
    return out


def seal_plaintext(session: Session, ring: KeyRing) -> int:
    """Seal every secret still stored in plaintext (an upgrade from an earlier version);
    the number sealed."""
    done = 0
    for row in session.scalars(select(UserTotp).order_by(UserTotp.user_id)):
        if not is_sealed(row.secret):
            row.secret = ring.seal(row.secret, _context(row.user_id))
            done += 1
    session.flush()
    return done


def reseal(session: Session, old: KeyRing, new: KeyRing) -> int:
    """Re-seal every secret not sealed with ``new``'s current key (opened with ``old``'s
    keys; plaintext ones sealed); the number re-sealed. Raises ``SecretKeyError`` naming the
    first secret ``old`` cannot open, before anything is changed."""
    rows = list(session.scalars(select(UserTotp).order_by(UserTotp.user_id)))
    plain: dict[int, str] = {}
    for row in rows:
        if is_sealed(row.secret) and sealed_key_id(row.secret) == new.current_id:
            continue
        ctx = _context(row.user_id)
        plain[row.user_id] = old.open(row.secret, ctx) if is_sealed(row.secret) else row.secret
    for row in rows:
        if row.user_id in plain:
            row.secret = new.seal(plain[row.user_id], _context(row.user_id))
    session.flush()
    return len(plain)


def check_sealed(session: Session, ring: KeyRing) -> list[str]:
    """Every stored secret opened with ``ring``: the problems found (empty when all open)."""
    problems = []
    for row in session.scalars(select(UserTotp).order_by(UserTotp.user_id)):
        if not is_sealed(row.secret):
            problems.append(f"user_totp:{row.user_id}: stored in plaintext")
            continue
        try:
            ring.open(row.secret, _context(row.user_id))
        except SecretKeyError as exc:
            problems.append(f"{exc.code}: {exc.message}")
    return problems
