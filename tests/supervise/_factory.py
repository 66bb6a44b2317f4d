"""A small province for supervision tests: two enterprises in two cities, their users."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import Enterprise, ProductionUnit
from kilnwatch.store.repos.users import add_user
from kilnwatch.supervise.access import set_department

PASSWORD = "correct-horse-9"


@dataclass
class World:
    jinan_id: int
    qingdao_id: int


def build(session: Session) -> World:
    jinan = Enterprise(uscc="91370100000000001A", name="济南水泥", region_code="370102",
                       industry="cement")  # fmt: skip
    qingdao = Enterprise(uscc="91370200000000002B", name="青岛钢铁", region_code="370211",
                         industry="steel")  # fmt: skip
    session.add_all([jinan, qingdao])
    session.flush()
    session.add(ProductionUnit(enterprise_id=jinan.id, code="K1", name="熟料线",
                               process="cement_clinker_line", capacity=1.0,
                               capacity_unit="Mt"))  # fmt: skip
    add_user(session, "admin", PASSWORD, Role.ADMIN)
    add_user(session, "shandong", PASSWORD, Role.PROVINCE, region_code="370000")
    add_user(session, "jinan", PASSWORD, Role.CITY, region_code="370100")
    add_user(session, "jinan_stats", PASSWORD, Role.CITY, region_code="370100")
    add_user(session, "qingdao", PASSWORD, Role.CITY, region_code="370200")
    add_user(session, "qiye", PASSWORD, Role.ENTERPRISE, enterprise_uscc=jinan.uscc)
    add_user(session, "qiye_qd", PASSWORD, Role.ENTERPRISE, enterprise_uscc=qingdao.uscc)
    set_department(session, "jinan_stats", "statistics")
    session.flush()
    return World(jinan.id, qingdao.id)


def principal(username: str, world: World) -> Principal:
    return {
        "admin": Principal("admin", Role.ADMIN),
        "shandong": Principal("shandong", Role.PROVINCE, region_code="370000"),
        "jinan": Principal("jinan", Role.CITY, region_code="370100"),
        "jinan_stats": Principal("jinan_stats", Role.CITY, region_code="370100"),
        "qingdao": Principal("qingdao", Role.CITY, region_code="370200"),
        "qiye": Principal("qiye", Role.ENTERPRISE, enterprise_id=world.jinan_id),
        "qiye_qd": Principal("qiye_qd", Role.ENTERPRISE, enterprise_id=world.qingdao_id),
    }[username]


def token(html: str) -> str:
    """The CSRF token of the page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found[1]


def sign_in(client: TestClient, user: str) -> None:
    """Sign ``user`` in (signing out whoever was)."""
    client.cookies.clear()
    form = {"username": user, "password": PASSWORD, "csrf_token": token(client.get("/signin").text)}
    r = client.post("/signin", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
