"""TOTP secrets at rest: sealed with the key kept outside the database, plaintext secrets of an
earlier version sealed on upgrade or at first use, a clear error when the key is missing or
wrong, and a rotation that running servers follow (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from pages_support import csrf_token
from sqlalchemy import Engine
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.identity import Role
from kilnwatch.keyfile import create_key_file, is_sealed, read_key_file, sealed_key_id
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import UserTotp
from kilnwatch.store.repos.users import add_user

PASSWORD = "correct-horse-9"
TOKEN = "/api/v1/auth/token"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # as an earlier version stored it: in plaintext


@pytest.fixture
def plaintext_user(engine: Engine) -> int:
    """A province user whose confirmed second factor an earlier version stored in plaintext."""
    with unit_of_work(make_session_factory(engine)) as s:
        user = add_user(s, "shandong", PASSWORD, Role.PROVINCE, region_code="370000")
        s.add(UserTotp(user_id=user.id, secret=SECRET, enabled=True, recovery_hashes=[]))
        return user.id


def _stored(engine: Engine, user_id: int) -> str:
    with make_session_factory(engine)() as s:
        row = s.get(UserTotp, user_id)
        assert row is not None
        return row.secret


def _token(client: TestClient, step: int) -> tuple[int, dict[str, str]]:
    """Sign in on the API with the code of ``step`` time steps from now (within the drift)."""
    left_s = 30 - time.time() % 30
    if left_s < 3:  # the server may count the next step, where step -1 is beyond the drift
        time.sleep(left_s)
    code = pyotp.TOTP(SECRET).at(time.time() + 30 * step)
    data = {"username": "shandong", "password": PASSWORD, "totp": code}
    r = client.post(TOKEN, data=data)
    return r.status_code, r.json().get("error", {})


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_VAR_DIR": str(settings.var_dir)}  # fmt: skip
    r = CliRunner().invoke(app, ["user", "totp-key", *args], env=env)
    return r.exit_code, r.output


def test_plaintext_secret_is_sealed_at_first_use_then_opens_with_the_key(
    client: TestClient, plaintext_user: int, engine: Engine, settings: Settings
) -> None:
    ring = create_key_file(settings.totp_key_path)
    assert _token(client, -1)[0] == 200  # the plaintext secret still works ...
    stored = _stored(engine, plaintext_user)
    assert is_sealed(stored) and SECRET not in stored  # ... and is sealed by that use
    assert ring.open(stored, f"user_totp:{plaintext_user}") == SECRET
    assert _token(client, 0)[0] == 200  # and opens at the next sign-in
    assert _token(client, 0)[1]["code"] == "auth.totp_wrong"  # the replay rule still holds


def test_upgrade_seals_plaintext_secrets_once_the_key_exists(
    plaintext_user: int, engine: Engine, settings: Settings
) -> None:
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_VAR_DIR": str(settings.var_dir)}  # fmt: skip
    r = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert r.exit_code == 0 and "1 TOTP secrets are stored in plaintext" in r.output, r.output
    assert _stored(engine, plaintext_user) == SECRET  # no key: nothing to seal with
    code, out = _cli(settings, "check")
    assert code == 2 and "not found" in out and "totp-key create" in out
    code, out = _cli(settings, "create")  # creating the key seals them
    assert code == 0 and "1 plaintext TOTP secrets encrypted" in out, out
    assert is_sealed(_stored(engine, plaintext_user))
    code, out = _cli(settings, "create")
    assert code == 2 and "exists already" in out  # never overwrites the only key
    code, out = _cli(settings, "check")
    assert code == 0 and f"{read_key_file(settings.totp_key_path).current_id}: 1" in out, out


def test_missing_or_wrong_key_is_a_clear_error_not_a_crash(
    client: TestClient, plaintext_user: int, engine: Engine, settings: Settings
) -> None:
    create_key_file(settings.totp_key_path)
    assert _token(client, -1)[0] == 200  # sealed now
    settings.totp_key_path.unlink()
    status, error = _token(client, 0)
    assert status == 503 and error["code"] == "secrets.key_missing", error
    assert str(settings.var_dir) not in error["message"]  # the path is for the log only
    create_key_file(settings.totp_key_path)  # another key: what was sealed does not open
    status, error = _token(client, 0)
    assert status == 503 and error["code"] == "secrets.key_wrong", error
    code, out = _cli(settings, "check")
    assert code == 1 and "secrets.key_wrong" in out and f"user_totp:{plaintext_user}" in out
    # the page's second step: an error page naming the code, not a traceback
    data = {"username": "shandong", "password": PASSWORD, "csrf_token": csrf_token(
        client.get("/signin").text)}  # fmt: skip
    page = client.post("/signin", data=data).text
    pending = re.search(r'name="pending" value="([^"]+)"', page)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert pending and csrf
    form = {"pending": pending[1], "code": pyotp.TOTP(SECRET).now(), "csrf_token": csrf[1]}
    r = client.post("/signin/totp", data=form)
    assert r.status_code == 503 and "第二因素暂不可用" in r.text and "secrets.key_wrong" in r.text
    assert str(settings.var_dir) not in r.text
    r = client.post(TOKEN, data={"username": "shandong", "password": PASSWORD})
    assert r.status_code == 401  # without a code: asked for one, the key not needed yet


def test_rotation_reseals_every_secret_and_a_running_server_follows(
    client: TestClient, plaintext_user: int, engine: Engine, settings: Settings
) -> None:
    first = create_key_file(settings.totp_key_path)
    assert _token(client, -1)[0] == 200
    code, out = _cli(settings, "rotate")
    assert code == 0 and f"dropped {first.current_id}" in out, out
    now = read_key_file(settings.totp_key_path)
    assert now.ids != first.ids and len(now.ids) == 1  # the old key is gone from the file
    assert sealed_key_id(_stored(engine, plaintext_user)) == now.current_id
    assert _token(client, 0)[0] == 200  # the same app, no restart: it re-read the file
    code, out = _cli(settings, "check")
    assert code == 0 and f"{now.current_id}: 1" in out
