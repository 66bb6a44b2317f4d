"""The optional TOTP second factor (RFC 6238): enrolment on /account/totp, the second step of
the sign-in page and of the API token endpoint, throttling of wrong codes, no replay of a time
step, recovery codes once, disable, audit entries without the secret, the admin reset."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from pages_support import csrf_token
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.identity import Role
from kilnwatch.keyfile import KeyRing, create_key_file
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import AuditEntry, UserTotp
from kilnwatch.store.repos.users import add_user

PASSWORD = "correct-horse-9"
BASE = "https://testserver"  # the cookies are Secure
TOKEN = "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def key(settings: Settings) -> KeyRing:
    """The key file outside the database (``var_dir/totp.key`` of the test's settings)."""
    return create_key_file(settings.totp_key_path)


@pytest.fixture
def user(engine: Engine) -> str:
    with unit_of_work(make_session_factory(engine)) as s:
        add_user(s, "shandong", PASSWORD, Role.PROVINCE, region_code="370000")
    return "shandong"


def _csrf(client: TestClient, path: str) -> str:
    return csrf_token(client.get(BASE + path).text)


def _password_step(client: TestClient) -> tuple[int, str]:
    data = {"username": "shandong", "password": PASSWORD, "csrf_token": _csrf(client, "/signin")}
    r = client.post(BASE + "/signin", data=data, follow_redirects=False)
    return r.status_code, r.text


def _second_step(client: TestClient, page: str, code: str) -> int:
    pending = re.search(r'name="pending" value="([^"]+)"', page)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert pending and csrf
    data = {"pending": pending[1], "code": code, "csrf_token": csrf[1]}
    return client.post(BASE + "/signin/totp", data=data, follow_redirects=False).status_code


def _enrol(client: TestClient) -> tuple[pyotp.TOTP, list[str]]:
    """Signed in with the password only: start, read the secret once, confirm with a code."""
    assert _password_step(client)[0] == 303
    page = client.get(BASE + "/account/totp").text
    assert 'id="totp-start"' in page and "建议省级用户开启" in page  # offered, zh-CN default
    csrf = _csrf(client, "/account/totp")
    r = client.post(BASE + "/account/totp/start", data={"csrf_token": csrf})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', r.text)
    assert r.status_code == 200 and secret and "otpauth://totp/kilnwatch:shandong?" in r.text
    totp = pyotp.TOTP(secret[1])
    assert client.get(BASE + "/account/totp").text.count(secret[1]) == 0  # shown once
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    r = client.post(BASE + "/account/totp/confirm", data={"code": wrong, "csrf_token": csrf})
    assert r.status_code == 422  # not enabled by a wrong code
    r = client.post(BASE + "/account/totp/confirm", data={"code": totp.now(), "csrf_token": csrf})
    assert r.status_code == 200 and 'id="totp-recovery-codes"' in r.text
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", r.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert secret[1] not in client.get(BASE + "/account/totp").text
    client.cookies.clear()
    return totp, codes


def _later(totp: pyotp.TOTP, steps: int = 1) -> str:
    """The code of a later time step (within the accepted drift of one step)."""
    return totp.at(time.time() + 30 * steps)


def test_enrol_then_the_page_asks_for_a_code(client: TestClient, user: str) -> None:
    totp, _codes = _enrol(client)
    status, page = _password_step(client)
    assert status == 200 and 'id="totp-signin-form"' in page  # no session yet
    assert client.get(BASE + "/account/totp", follow_redirects=False).status_code == 303
    assert _second_step(client, page, "000000" if totp.now() != "000000" else "111111") == 401
    code = _later(totp)  # the confirming code's step is used up
    assert _second_step(client, page, code) == 303
    assert client.get(BASE + "/account/totp").status_code == 200  # signed in
    client.cookies.clear()
    status, page = _password_step(client)
    assert _second_step(client, page, code) == 401  # the same time step again: replay refused


def test_api_needs_the_code(client: TestClient, user: str) -> None:
    totp, _codes = _enrol(client)
    r = client.post(TOKEN, data={"username": "shandong", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.totp_required"
    r = client.post(TOKEN, data={"username": "shandong", "password": "wrong-one-1", "totp": "1"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.failed"  # password first
    code = _later(totp)
    r = client.post(TOKEN, data={"username": "shandong", "password": PASSWORD, "totp": code})
    assert r.status_code == 200 and r.json()["access_token"]
    r = client.post(TOKEN, data={"username": "shandong", "password": PASSWORD, "totp": code})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.totp_wrong"  # replay
    r = client.post(TOKEN, data={"username": "shandong", "password": PASSWORD, "totp": totp.now()})
    assert r.status_code == 401  # an earlier step than the last accepted one


def test_wrong_codes_are_throttled(client: TestClient, user: str, settings: Settings) -> None:
    totp, _codes = _enrol(client)
    limit = settings.sign_in_max_failures_per_account
    bad = f"{(int(_later(totp)) + 1) % 1_000_000:06d}"
    for _ in range(limit):
        r = client.post(TOKEN, data={"username": "shandong", "password": PASSWORD, "totp": bad})
        assert r.status_code == 401
    data = {"username": "shandong", "password": PASSWORD, "totp": totp.now()}
    r = client.post(TOKEN, data=data)
    assert r.status_code == 429 and r.json()["error"]["code"] == "auth.rate_limited"
    status, page = _password_step(client)
    assert status == 429  # the page too


def test_recovery_code_works_once(client: TestClient, user: str) -> None:
    _totp, codes = _enrol(client)
    status, page = _password_step(client)
    assert _second_step(client, page, codes[3].upper()) == 303
    client.cookies.clear()
    status, page = _password_step(client)
    assert _second_step(client, page, codes[3]) == 401
    data = {"username": "shandong", "password": PASSWORD, "totp": codes[4]}
    assert client.post(TOKEN, data=data).status_code == 200
    assert client.post(TOKEN, data=data).status_code == 401


def test_disable_needs_password_and_code(client: TestClient, user: str, engine: Engine) -> None:
    totp, codes = _enrol(client)
    status, page = _password_step(client)
    assert _second_step(client, page, codes[0]) == 303
    csrf = _csrf(client, "/account/totp")
    form = {"password": "wrong-one-1", "code": totp.now(), "csrf_token": csrf}
    assert client.post(BASE + "/account/totp/disable", data=form).status_code == 401
    form |= {"password": PASSWORD, "code": codes[1]}
    r = client.post(BASE + "/account/totp/disable", data=form)
    assert r.status_code == 200 and 'id="totp-start"' in r.text
    client.cookies.clear()
    assert _password_step(client)[0] == 303  # the password alone again
    r = client.post(TOKEN, data={"username": "shandong", "password": PASSWORD})
    assert r.status_code == 200
    with unit_of_work(make_session_factory(engine)) as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.table_name == "user_totp")))
        assert {e.action for e in entries} >= {"insert", "update", "delete"}
        text = repr([e.changes for e in entries])
        assert totp.secret not in text and codes[5] not in text  # never the secret


def test_admin_reset_from_the_cli(client: TestClient, user: str, settings: Settings) -> None:
    _enrol(client)
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    r = CliRunner().invoke(app, ["user", "totp-reset", "shandong"], env=env)
    assert r.exit_code == 0 and "removed" in r.output, r.output
    r = client.post(TOKEN, data={"username": "shandong", "password": PASSWORD})
    assert r.status_code == 200
    r = CliRunner().invoke(app, ["user", "totp-reset", "nobody"], env=env)
    assert r.exit_code != 0 and "unknown user" in r.output


def test_secret_is_not_required_for_anyone_by_default(user: str, engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine)) as s:
        assert s.scalars(select(UserTotp)).first() is None
