"""The other supervision pages: plan a round and record a visit's checklist, follow an
escalated rectification to a decided penalty and the quota balances, and the public complaint
form."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import InspectionCheck, InspectionVisit, SupervisionItem
from kilnwatch.supervise.rectification import open_rectification

sys.path.insert(0, str(Path(__file__).parent))
from _factory import build, sign_in, token  # noqa: E402


def test_round_and_checklist_pages(browser: TestClient, engine: Engine) -> None:
    client = browser
    with unit_of_work(make_session_factory(engine)) as session:
        world = build(session)
    sign_in(client, "jinan")
    page = client.get("/supervision/rounds")
    assert page.status_code == 200 and 'id="plan-round"' not in page.text  # the province plans
    sign_in(client, "shandong")
    page = client.get("/supervision/rounds")
    r = client.post(
        "/supervision/rounds",
        data={
            "round_code": "2025H1",
            "groups": "2",
            "tolerance": "0.6",
            "csrf_token": token(page.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get("/supervision/rounds/2025H1")
    assert page.status_code == 200 and "济南水泥" in page.text and "青岛钢铁" in page.text
    with make_session_factory(engine)() as session:
        visit = session.scalar(
            select(InspectionVisit).where(InspectionVisit.enterprise_id == world.jinan_id)
        )
        assert visit is not None
        vid = visit.id
    sign_in(client, "jinan_stats")  # statistics records output, not energy
    page = client.get(f"/supervision/visits/{vid}")
    assert 'name="value_output"' in page.text and 'name="value_energy"' not in page.text
    r = client.post(
        f"/supervision/visits/{vid}",
        data={
            "value_output": "1,200",
            "ok_output": "1",
            "note_output": "台账一致",
            "summary": "产量核对无误",
            "csrf_token": token(page.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with make_session_factory(engine)() as session:
        check = session.scalar(select(InspectionCheck).where(InspectionCheck.visit_id == vid))
        assert check is not None and (check.item, check.checked_value, check.ok) == (
            "output",
            1200.0,
            True,
        )
    page = client.get(f"/supervision/visits/{vid}")
    r = client.post(f"/supervision/visits/{vid}", data={
        "open": "rectification", "title": "产量台账缺失", "csrf_token": token(page.text)},
        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "/supervision/items/" in r.headers["location"]


def test_escalated_rectification_to_decided_penalty(browser: TestClient, engine: Engine) -> None:
    client = browser
    with unit_of_work(make_session_factory(engine)) as session:
        world = build(session)
        item = open_rectification(
            session,
            enterprise_id=world.jinan_id,
            source_code="manual",
            source_ref="p1",
            title="能耗超限",
            due_date=date.today() + timedelta(days=3),
            actor="jinan",
        )
        item.status = "escalated"
        rid = item.id
    sign_in(client, "shandong")
    page = client.get("/supervision/quotas?period=2025")
    r = client.post("/supervision/quotas", data={"period": "2025", "region_code": "370100",
                    "quota": "energy", "amount": "5000", "csrf_token": token(page.text)},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    sign_in(client, "jinan")
    page = client.get(f"/supervision/items/{rid}")
    assert 'id="follow-penalty"' in page.text
    r = client.post(f"/supervision/items/{rid}/follow-up", data={
        "follow_up": "penalty", "quota": "energy", "amount": "120", "period": "2025",
        "legal_basis": "《节约能源法》", "body": "逾期未整改", "csrf_token": token(page.text)},
        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    page = client.get(url)
    assert 'id="act-decide"' in page.text and 'id="item-deductions"' in page.text
    r = client.post(url + "/action", data={"action": "decide", "comment": "集体审议",
                    "csrf_token": token(page.text)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    csv = client.get("/supervision/quotas?period=2025&format=csv").text
    assert "5000.0,120.0,4880.0" in csv


def test_public_complaint_form(browser: TestClient, engine: Engine) -> None:
    client = browser
    with unit_of_work(make_session_factory(engine)) as session:
        build(session)
    page = client.get("/complaints/new")
    assert page.status_code == 200
    r = client.post(
        "/complaints/new",
        data={
            "region_code": "370100",
            "subject": "冒黑烟",
            "body": "夜间冒黑烟",
            "complainant": "王五",
            "csrf_token": token(page.text),
        },
    )
    assert r.status_code == 200 and 'id="complaint-done"' in r.text
    r = client.post("/complaints/new", data={"region_code": "370100", "subject": "",
                    "body": "x", "csrf_token": token(page.text)})  # fmt: skip
    assert r.status_code == 422
    with make_session_factory(engine)() as session:
        found = session.scalar(select(SupervisionItem).where(SupervisionItem.kind == "complaint"))
        assert found is not None and found.complainant == "王五" and found.channel == "web"
    sign_in(client, "jinan")
    assert "冒黑烟" in client.get("/supervision?kind=complaint").text
