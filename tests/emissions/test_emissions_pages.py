"""The emissions pages (zh-CN by default, English on request), their CSV twins and scoping."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from _emissions_factory import USCC
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kilnwatch.config import Settings
from kilnwatch.identity import Role
from kilnwatch.store.models import Enterprise, ProductionUnit
from kilnwatch.store.repos.users import add_user
from kilnwatch.web.app import create_app

PASSWORD = "long-password-1"


@pytest.fixture
def web(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """Over https: outside development the session cookie is ``Secure``."""
    app = create_app(settings)
    with TestClient(app, base_url="https://testserver") as c:
        yield c
    app.state.engine.dispose()


def _sign_in(client: TestClient, session: Session, user: str, role: Role, region: str) -> None:
    add_user(session, user, PASSWORD, role, region_code=region)
    session.commit()
    client.cookies.clear()
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text)
    assert found
    r = client.post(
        "/signin", data={"username": user, "password": PASSWORD, "csrf_token": found[1]},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text


def test_province_enterprise_and_stack_pages(web: TestClient, stack_day: Session) -> None:
    _sign_in(web, stack_day, "prov", Role.PROVINCE, "370000")
    page = web.get("/emissions?period=2025-03-02")
    assert page.status_code == 200, page.text
    assert "污染物排放与用水" in page.text and "济南示例水泥有限公司" in page.text
    csv = web.get("/emissions?period=2025-03-02&format=csv&table=by_enterprise").text
    assert "0.765" in csv  # NOx [t], the figure of the API and the report
    episodes = web.get("/emissions?period=2025-03-02&format=csv&table=episodes").text
    assert len(episodes.strip().splitlines()) == 2  # header + the one NOx episode
    unit_id = stack_day.scalar(select(ProductionUnit.id).where(ProductionUnit.code == "CL1"))
    ent = web.get("/emissions?period=2025-03-02").text
    href = re.search(r'href="(/emissions/enterprises/\d+)[^"]*"', ent)
    assert href
    assert web.get(f"{href[1]}?period=2025-03-02").status_code == 200
    stack = web.get(f"/emissions/stacks/{unit_id}?period=2025-03-02&lang=en")
    assert stack.status_code == 200 and "CL1" in stack.text
    en = web.get("/emissions?period=2025-03-02", headers={"Accept-Language": "en"})
    assert en.status_code == 200
    ent_page = web.get(f"/enterprises/{href[1].rsplit('/', 1)[1]}?period=2025-03-02")
    assert ent_page.status_code == 200 and "污染物排放与用水" in ent_page.text


def test_city_outside_sees_no_stack(web: TestClient, stack_day: Session) -> None:
    _sign_in(web, stack_day, "qd", Role.CITY, "370200")
    unit_id = stack_day.scalar(select(ProductionUnit.id).where(ProductionUnit.code == "CL1"))
    assert web.get(f"/emissions/stacks/{unit_id}?period=2025-03-02").status_code == 404
    page = web.get("/emissions?period=2025-03-02")
    assert page.status_code == 200 and "济南示例水泥有限公司" not in page.text


def test_enterprise_page_shows_withdrawal_by_source(web: TestClient, water_day: Session) -> None:
    _sign_in(web, water_day, "prov", Role.PROVINCE, "370000")
    ent_id = water_day.scalar(select(Enterprise.id).where(Enterprise.uscc == USCC))
    zh = web.get(f"/emissions/enterprises/{ent_id}?period=2025-03-02")
    assert zh.status_code == 200, zh.text
    assert "分水源取水量" in zh.text and "地下水" in zh.text and "未说明" in zh.text
    web.get("/lang", params={"to": "en"})
    en = web.get(f"/emissions/enterprises/{ent_id}?period=2025-03-02").text
    assert "Withdrawal by source" in en and "groundwater" in en and "unspecified" in en
    csv = web.get(
        f"/emissions/enterprises/{ent_id}?period=2025-03-02&format=csv&table=water_sources"
    ).text
    assert len(csv.strip().splitlines()) == 4  # header + groundwater, municipal, unspecified
    assert "240" in csv and "192" in csv
