"""Passwords are Argon2id (RFC 9106 §4, t=3, m=64 MiB, p=4); a scrypt hash kept from before is
replaced by Argon2id of the same password at the next sign-in (the API's token here; the page
sign-in calls the same ``rehash_if_needed``)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kilnwatch.identity import Role, hash_secret, password_needs_rehash, verify_secret
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import User
from kilnwatch.store.repos.users import add_user

PASSWORD = "correct-horse-7"
PHC = "$argon2id$v=19$m=65536,t=3,p=4$"


def _hash(engine: Engine, name: str) -> str:
    with make_session_factory(engine)() as s:
        return s.scalars(select(User.password_hash).where(User.username == name)).one()


def test_scrypt_hashes_become_argon2id_at_sign_in(client: TestClient, engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine)) as s:
        assert add_user(s, "fresh", PASSWORD, Role.ADMIN).password_hash.startswith(PHC)
        old = add_user(s, "old", PASSWORD, Role.ADMIN)
        old.password_hash = hash_secret(PASSWORD)  # as stored before Argon2id
    assert password_needs_rehash(_hash(engine, "old"))
    wrong = client.post("/api/v1/auth/token", data={"username": "old", "password": "nope-nope"})
    assert wrong.status_code == 401 and _hash(engine, "old").startswith("scrypt$")
    ok = client.post("/api/v1/auth/token", data={"username": "old", "password": PASSWORD})
    assert ok.status_code == 200
    rehashed = _hash(engine, "old")
    assert rehashed.startswith(PHC) and verify_secret(PASSWORD, rehashed)
    assert not password_needs_rehash(rehashed) and not verify_secret("nope-nope", rehashed)
    again = client.post("/api/v1/auth/token", data={"username": "old", "password": PASSWORD})
    assert again.status_code == 200 and _hash(engine, "old") == rehashed  # once only
    assert not verify_secret(PASSWORD, "$argon2id$v=19$broken")
