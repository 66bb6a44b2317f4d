"""Failed sign-ins are throttled per account and per address, on the API and the page, and
counted across requests (stored, committed although the request fails)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kilnwatch.config import Settings
from kilnwatch.identity import Role
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.repos.users import add_user

PASSWORD = "correct-horse-9"


@pytest.fixture
def users(engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine)) as s:
        add_user(s, "jinan", PASSWORD, Role.CITY, region_code="370100")
        add_user(s, "zibo", PASSWORD, Role.CITY, region_code="370300")


def _token(client: TestClient, username: str, password: str) -> int:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return r.status_code


def test_account_is_refused_after_repeated_failures(
    client: TestClient, users: None, settings: Settings
) -> None:
    limit = settings.sign_in_max_failures_per_account
    assert [_token(client, "jinan", "guess") for _ in range(limit)] == [401] * limit
    r = client.post("/api/v1/auth/token", data={"username": "jinan", "password": PASSWORD})
    assert r.status_code == 429  # even the right password, while refused
    assert r.json()["error"]["code"] == "auth.rate_limited"
    assert 0 < int(r.headers["Retry-After"]) <= settings.sign_in_window_s
    assert _token(client, "zibo", PASSWORD) == 200  # another account is not affected


def test_success_forgets_earlier_failures(
    client: TestClient, users: None, settings: Settings
) -> None:
    limit = settings.sign_in_max_failures_per_account
    for _ in range(limit - 1):
        assert _token(client, "jinan", "guess") == 401
    assert _token(client, "jinan", PASSWORD) == 200
    assert [_token(client, "jinan", "guess") for _ in range(limit - 1)] == [401] * (limit - 1)
    assert _token(client, "jinan", PASSWORD) == 200


def test_address_is_refused_across_accounts(
    client: TestClient, users: None, settings: Settings
) -> None:
    limit = settings.sign_in_max_failures_per_address
    for i in range(limit):
        assert _token(client, f"nobody{i}", "guess") == 401  # stuffing: many names, one each
    assert _token(client, "zibo", PASSWORD) == 429


def test_sign_in_page_says_when_to_try_again(
    client: TestClient, users: None, settings: Settings
) -> None:
    page = client.get("/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"username": "jinan", "password": "guess", "csrf_token": token}
    for _ in range(settings.sign_in_max_failures_per_account):
        assert (
            client.post("https://testserver/signin", data=form, follow_redirects=False).status_code
            == 401
        )
    r = client.post(
        "https://testserver/signin", data={**form, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert "登录失败次数过多" in r.text
