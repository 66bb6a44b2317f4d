"""Who is asking: roles, jurisdictions, password hashing and API tokens.

A :class:`Principal` is what every scoped query takes; it is built from a user (or a gateway)
once per request and never from request parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kilnwatch.errors import AuthenticationError, InputError


class Role(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    ENTERPRISE = "enterprise"
    INSPECTOR = "inspector"
    AUDITOR = "auditor"
    ADMIN = "admin"


REGION_ROLES = frozenset({Role.PROVINCE, Role.CITY, Role.COUNTY, Role.INSPECTOR, Role.AUDITOR})
WRITE_ROLES = frozenset({Role.ADMIN, Role.PROVINCE, Role.CITY, Role.COUNTY})


@dataclass(frozen=True)
class Principal:
    """The caller: a role and exactly one jurisdiction (a region prefix or an enterprise)."""

    subject: str
    role: Role
    region_code: str | None = None
    enterprise_id: int | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def may_write_registry(self) -> bool:
        return self.role in WRITE_ROLES


def check_jurisdiction(role: Role, region_code: str | None, enterprise_id: int | None) -> None:
    """Refuse a user whose jurisdiction does not fit the role."""
    if role is Role.ADMIN:
        return
    if role is Role.ENTERPRISE:
        if enterprise_id is None:
            raise InputError("an enterprise user needs an enterprise", field="enterprise")
        return
    if region_code is None:
        raise InputError(f"a {role.value} user needs a region", field="region")


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    """scrypt hash with a random salt, as ``scrypt$salt$hash`` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


ARGON2ID = PasswordHasher(time_cost=3, memory_cost=2**16, parallelism=4)
"""People's passwords: Argon2id with RFC 9106 §4's second recommended option (t = 3 passes,
m = 2¹⁶ KiB = 64 MiB, p = 4 lanes, 16-byte salt, 32-byte tag). Gateways and devices keep
:func:`hash_secret` (scrypt): the ingest receivers remember their checks by that hash."""
_ARGON2_PREFIX = "$argon2id$"


def hash_password(password: str) -> str:
    """A person's password as an Argon2id PHC string (``$argon2id$v=19$m=65536,t=3,p=4$…``)."""
    return ARGON2ID.hash(password)


def password_needs_rehash(stored: str) -> bool:
    """True for a scrypt hash (kept from before) or Argon2id with other parameters: the
    sign-in that just verified the password stores :func:`hash_password` of it instead."""
    return not stored.startswith(_ARGON2_PREFIX) or ARGON2ID.check_needs_rehash(stored)


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant-time check of ``secret`` against a :func:`hash_password` (Argon2id) or
    :func:`hash_secret` (scrypt) value."""
    if stored and stored.startswith(_ARGON2_PREFIX):
        try:
            return ARGON2ID.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt_b64, digest_b64 = stored.split("$", 2)
    digest = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def issue_token(principal: Principal, secret_key: str, ttl_s: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": principal.subject,
        "role": principal.role.value,
        "region": principal.region_code,
        "enterprise": principal.enterprise_id,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s),
    }
    return jwt.encode(claims, secret_key, algorithm="HS256")


def read_token(token: str, secret_key: str) -> Principal:
    try:
        claims = jwt.decode(token, secret_key, algorithms=["HS256"])
        return Principal(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            region_code=claims.get("region"),
            enterprise_id=claims.get("enterprise"),
        )
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise AuthenticationError("invalid or expired token") from exc
