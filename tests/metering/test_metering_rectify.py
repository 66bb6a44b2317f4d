"""Census gaps become rectification items of supervision (issue 18 → 15): one per
non-conformity, never twice, with the point's own planned date as the deadline when it lies
ahead; from the service, the API (regulators only), the page and the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.identity import Principal, Role
from kilnwatch.metering import enterprise_census
from kilnwatch.metering.rectify import SOURCE_CODE, gap_ref, rectify_census_gaps
from kilnwatch.store.models import SupervisionItem
from kilnwatch.supervise.items import ItemFilter, list_items
from metering.test_metering_web import PASSWORD, _province, _sign_in, _token

ADMIN = Principal("admin", Role.ADMIN)
MARCH_END, TODAY = date(2025, 3, 31), date(2025, 4, 2)


def test_every_non_conformity_once_with_its_deadline(session: Session, tmp_path: Path) -> None:
    ent_id = _province(session, tmp_path)
    [census] = [c for c in enterprise_census(session, ADMIN, MARCH_END)
                if c.enterprise_id == ent_id]  # fmt: skip
    wanted = {gap_ref(census, x) for x in census.gaps if not x.is_warning}
    first = rectify_census_gaps(session, ADMIN, MARCH_END, TODAY)
    items = session.scalars(
        select(SupervisionItem).where(SupervisionItem.source_code == SOURCE_CODE)
    ).all()
    assert {i.source_ref for i in items if i.enterprise_id == ent_id} == wanted
    assert len(first.opened) == len(items) and first.existing == [] and first.gaps == len(items)
    assert all(i.kind == "rectification" and i.status == "open" for i in items)
    missing = next(i for i in items if i.source_ref.endswith("missing_instrument/P-EQ1"))
    assert missing.due_on == date(2025, 12, 31)  # the point's planned_on, ahead of today
    assert "GB 17167" in missing.body
    accuracy = next(i for i in items if "accuracy.below_requirement" in i.source_ref)
    assert accuracy.due_on == date(2025, 5, 2)  # no planned date: today + 30 days (planning.csv)
    again = rectify_census_gaps(session, ADMIN, MARCH_END, TODAY)
    assert again.opened == [] and sorted(again.existing) == sorted(first.opened)
    enterprise = Principal("qiye", Role.ENTERPRISE, enterprise_id=ent_id)
    mine = [i for i in list_items(session, enterprise, ItemFilter(), limit=500)[0]
            if i.source_code == SOURCE_CODE]  # fmt: skip
    assert {i.id for i in mine} == {i.id for i in items if i.enterprise_id == ent_id}


def test_api_and_page_open_them_for_regulators_only(
    browser: TestClient, session: Session, tmp_path: Path
) -> None:
    _province(session, tmp_path)
    prov = _token(browser, "prov")
    r = browser.post("/api/v1/metering/rectifications?period=2025-03", headers=prov)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["census_day"] == "2025-03-31" and body["opened"] and body["existing"] == []
    qd = _token(browser, "qd")  # Qingdao: no census gap of its own enterprise is a new item
    r = browser.post("/api/v1/metering/rectifications?period=2025-03", headers=qd)
    assert r.status_code == 200 and set(r.json()["opened"]).isdisjoint(body["opened"])
    _sign_in(browser, "prov")
    page = browser.get("/metering?period=2025-03")
    assert 'id="metering-rectify-form"' in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = browser.post("/metering/rectify", data={"csrf_token": token, "period": "2025-03"},
                     follow_redirects=True)  # fmt: skip
    assert r.status_code == 200 and 'id="metering-rectified"' in r.text
    assert f"已有整改 {len(body['opened'])} 项" in r.text  # nothing opened twice


def test_enterprise_users_cannot_open_them(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    from kilnwatch.store.repos.users import add_user

    _province(session, tmp_path)
    add_user(session, "ent", PASSWORD, Role.ENTERPRISE, enterprise_uscc="91370100MA3C4XY21E")
    session.commit()
    r = client.post("/api/v1/metering/rectifications", headers=_token(client, "ent"))
    assert r.status_code == 403


def test_cli_rectify_metering(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _province(session, tmp_path)
    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    first = runner.invoke(app, ["supervise", "rectify-metering", "--period", "2025-03"])
    assert first.exit_code == 0, first.output
    text = " ".join(first.output.split())
    assert "5 non-conformities; 5 rectifications opened, 0 already open" in text
    second = runner.invoke(app, ["supervise", "rectify-metering", "--period", "2025-03"])
    assert "0 rectifications opened, 5 already open" in " ".join(second.output.split())
