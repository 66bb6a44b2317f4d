"""Uploads from the browser are scoped to the uploader's jurisdiction: a city user's file that
names a meter or an enterprise outside the city is refused whole, row by row, and nothing of
it is stored; the same file within the city is imported; inspectors may not upload."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from pages_support import csrf_token, sign_in
from sqlalchemy import Engine, func, select

from kilnwatch.store.engine import make_session_factory
from kilnwatch.store.models import Enterprise, Meter, Reading

READINGS = "meter_code,ts,value,unit\nE-IN-ELE,2025-04-01T00:00:00+08:00,10,kWh\n"
STARTS = (
    "meter_code,ts,value,unit\n"
    "E-IN-ELE,2025-04-01T00:00:00+08:00,10,kWh\n"
    "E-IN-ELE,2025-04-01T01:00:00+08:00,20,kWh\n"
)


def _upload(
    client: TestClient, kind: str, name: str, text: str, ts_convention: str = "end"
) -> tuple[int, str]:
    token = csrf_token(client.get("/admin/uploads").text)
    data = {"kind": kind, "csrf_token": token, "ts_convention": ts_convention}
    r = client.post("/admin/uploads", data=data,
                    files={"file": (name, text.encode(), "text/csv")})  # fmt: skip
    return r.status_code, r.text


def _count(engine: Engine, what: object) -> int:
    with make_session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


def test_a_city_user_uploads_only_within_the_city(
    client: TestClient, province: dict[str, int], engine: Engine
) -> None:
    before = _count(engine, Reading)
    sign_in(client, "qingdao")
    status, html = _upload(client, "readings", "r.csv", READINGS)
    assert status == 422 and "计量器具 E-IN-ELE 不在您的辖区内" in html
    assert _count(engine, Reading) == before  # nothing of the refused file is stored
    status, html = _upload(client, "sources", "grid_electricity.csv",
                           "enterprise_uscc,period,electricity_kwh\n"
                           "91370100MA3C4XYZ1Q,2025-03,100\n")  # fmt: skip
    assert status == 422 and "企业 91370100MA3C4XYZ1Q 不在您的辖区内" in html
    enterprises = ("uscc,name,region_code,industry,status\n"
                   "91370100MA3C4XYZ1Q,改名,370112,cement,operating\n"
                   "91370200MA3C4XY00X,新企业,370211,coking,operating\n")  # fmt: skip
    status, html = _upload(client, "registry", "enterprises.csv", enterprises)
    assert status == 422 and html.count("不在您的辖区内") == 1  # the Jinan row; the new one is fine
    assert "行政区划 370112 不在您的辖区内" in html
    client.cookies.clear()
    sign_in(client, "jinan")
    status, html = _upload(client, "readings", "r.csv", READINGS)
    assert status == 200 and "upload-done" in html
    assert _count(engine, Reading) == before + 1
    ent = _count(engine, Enterprise)
    status, html = _upload(client, "registry", "enterprises.csv", enterprises)
    assert status == 422 and "行政区划 370211 不在您的辖区内" in html
    assert _count(engine, Enterprise) == ent


def test_who_may_upload_what(client: TestClient, province: dict[str, int], engine: Engine) -> None:
    sign_in(client, "ent")  # an enterprise: its readings and sources, not the registry
    page = client.get("/admin/uploads").text
    assert 'value="readings"' in page and 'value="registry"' not in page
    status, _ = _upload(client, "registry", "enterprises.csv", "uscc\n")
    assert status == 403
    status, html = _upload(client, "readings", "r.csv", READINGS)
    assert status == 200, html
    # a file stamped at interval starts (many meter exports) is stored at the interval ends
    page = client.get("/admin/uploads").text
    assert 'name="ts_convention"' in page and 'value="start"' in page
    status, html = _upload(client, "readings", "r.csv", STARTS, ts_convention="start")
    assert status == 200 and "moved_to_interval_end: 2" in html
    with make_session_factory(engine)() as session:
        stamps = session.scalars(
            select(Reading.ts).join(Meter, Meter.id == Reading.meter_id)
            .where(Meter.code == "E-IN-ELE", Reading.ts > datetime(2025, 3, 31, 16, tzinfo=UTC))
            .order_by(Reading.ts)
        ).all()  # fmt: skip
    assert [t.replace(tzinfo=UTC).hour for t in stamps] == [17, 18]
