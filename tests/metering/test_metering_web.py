"""The metering API and pages through the application (httpx test client), in the caller's
scope."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from kilnwatch.identity import Role
from kilnwatch.metering.imports import import_metering
from kilnwatch.store.repos.users import add_user
from metering._factory import JINAN, load_registry
from metering.test_import_and_report import CALIBRATIONS, POINTS

PASSWORD = "long-password-1"


def _province(session: Session, tmp_path: Path) -> int:
    ent = load_registry(session)
    (tmp_path / "metering_points.csv").write_text(POINTS, encoding="utf-8")
    (tmp_path / "meter_calibrations.csv").write_text(CALIBRATIONS, encoding="utf-8")
    import_metering(session, tmp_path)
    add_user(session, "prov", PASSWORD, Role.PROVINCE, region_code="370000")
    add_user(session, "qd", PASSWORD, Role.CITY, region_code="370200")
    session.commit()
    return ent.id


def _token(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_api_census_enterprise_and_rollout(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    _province(session, tmp_path)
    h = _token(client, "prov")
    r = client.get("/api/v1/metering/census?period=2025-03", headers=h)
    assert r.status_code == 200, r.text
    by_uscc = {c["uscc"]: c for c in r.json()}
    jn = by_uscc[JINAN]
    assert jn["census_day"] == "2025-03-31" and jn["has_census"] and not jn["configured"]
    eq = next(x for x in jn["rows"] if x["level"] == "equipment")
    assert (eq["required"], eq["installed"], eq["rate_pct"], eq["min_pct"]) == (1, 0, 0.0, 95.0)
    codes = {x["code"] for x in jn["gaps"]}
    assert {"metering.configuration.missing_instrument",
            "metering.accuracy.below_requirement"} <= codes  # fmt: skip
    r = client.get(f"/api/v1/metering/enterprises/{JINAN}?period=2025-03", headers=h)
    assert r.status_code == 200 and r.json()["census"]["uscc"] == JINAN
    assert {m["meter_code"] for m in r.json()["meters"]} >= {"M-JN-E0", "M-JN-C0"}
    roll = client.get("/api/v1/metering/rollout?period=2025-03", headers=h).json()
    cement = next(x for x in roll if x["city_code"] == "370100")
    got = tuple(cement[k] for k in ("industry", "deadline", "enterprises", "configured"))
    assert got == ("cement", "2022-12-31", 1, 0)
    assert cement["behind"]
    qd = _token(client, "qd")
    assert client.get(f"/api/v1/metering/enterprises/{JINAN}", headers=qd).status_code == 404
    assert [c["uscc"] for c in client.get("/api/v1/metering/census", headers=qd).json()] == [
        "91370200163562681G"
    ]


def _sign_in(client: TestClient, user: str) -> None:
    page = client.get("/signin")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/signin", data={"username": user, "password": PASSWORD,
                                      "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert r.status_code in (302, 303), r.text


def test_pages_in_both_languages(browser: TestClient, session: Session, tmp_path: Path) -> None:
    client = browser
    ent_id = _province(session, tmp_path)
    _sign_in(client, "prov")
    page = client.get("/metering?period=2025-03")
    assert page.status_code == 200, page.text
    assert "能源计量器具配备与运行" in page.text and 'id="rollout"' in page.text
    detail = client.get(f"/metering/enterprises/{ent_id}?period=2025-03")
    assert detail.status_code == 200 and "P-EQ1" in detail.text and "JD-2025-001" in detail.text
    csv = client.get(f"/metering/enterprises/{ent_id}?period=2025-03&format=csv&table=census")
    assert csv.status_code == 200 and "应配备" in csv.text
    client.get("/lang", params={"to": "en"})
    english = client.get(f"/metering/enterprises/{ent_id}?period=2025-03")
    assert "Configuration rate" in english.text and "missing instrument" in english.text
    section = client.get(f"/enterprises/{ent_id}?period=2025-03")
    assert 'id="sec-metering"' in section.text and 'id="metering-detail"' in section.text
