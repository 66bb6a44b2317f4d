"""Passwords: a user changes its own (current password first), an administrator resets one from
the CLI; either way every browser session of that user ends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pages_support import csrf_token
from sqlalchemy import Engine
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.identity import Role
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.repos.users import add_user

OLD, NEW = "correct-horse-9", "battery-staple-7"
BASE = "https://testserver"  # the cookies are Secure


@pytest.fixture
def user(engine: Engine) -> str:
    with unit_of_work(make_session_factory(engine)) as s:
        add_user(s, "jinan", OLD, Role.CITY, region_code="370100")
    return "jinan"


def _csrf(client: TestClient, path: str) -> str:
    return csrf_token(client.get(BASE + path).text)


def _sign_in(client: TestClient, password: str) -> int:
    data = {"username": "jinan", "password": password, "csrf_token": _csrf(client, "/signin")}
    return client.post(BASE + "/signin", data=data, follow_redirects=False).status_code


def test_user_changes_own_password(client: TestClient, user: str) -> None:
    assert _sign_in(client, OLD) == 303
    token = _csrf(client, "/account/password")
    form = {"current": "wrong-one-1", "new": NEW, "repeat": NEW, "csrf_token": token}
    r = client.post(BASE + "/account/password", data=form, follow_redirects=False)
    assert r.status_code == 401  # the current password first
    form |= {"current": OLD, "repeat": NEW + "x"}
    assert client.post(BASE + "/account/password", data=form).status_code == 422
    form |= {"repeat": NEW}
    r = client.post(BASE + "/account/password", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    client.cookies.clear()
    assert _sign_in(client, OLD) == 401
    assert _sign_in(client, NEW) == 303


def test_admin_reset_from_the_cli_ends_sessions(
    client: TestClient, user: str, settings: Settings
) -> None:
    assert _sign_in(client, OLD) == 303
    assert client.get(BASE + "/account/password").status_code == 200
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    r = CliRunner().invoke(app, ["user", "passwd", "jinan", "--password", NEW], env=env)
    assert r.exit_code == 0, r.output
    r = client.get(BASE + "/account/password", follow_redirects=False)
    assert r.status_code == 303 and "/signin" in r.headers["location"]  # signed out
    r = CliRunner().invoke(app, ["user", "passwd", "jinan", "--password", "short"], env=env)
    assert r.exit_code == 2 and "at least 8 characters" in r.output
