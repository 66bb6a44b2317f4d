"""Reports are reachable from the pages: the /reports page (catalogue with a button per format,
the user's archive and schedules), the region and enterprise pages' buttons, and every button
answers with the file of the user's jurisdiction."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from pages_support import sign_in
from sqlalchemy import Engine

from kilnwatch.config import Settings
from kilnwatch.reports import scheduler
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models.base import utcnow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _hrefs(html: str, marker: str) -> list[str]:
    return [part.split('"', 1)[0].replace("&amp;", "&")
            for part in html.split('href="')[1:] if part.startswith(marker)]  # fmt: skip


def test_report_buttons_download_the_jurisdictions_reports(
    client: TestClient, province: dict[str, int]
) -> None:
    sign_in(client, "jinan")
    city = client.get("/regions/370100?period=2025-03")
    buttons = _hrefs(city.text, "/api/v1/reports/monthly?")
    assert buttons == [
        "/api/v1/reports/monthly?period=2025-03&format=xlsx&lang=zh-CN&city=370100",
        "/api/v1/reports/monthly?period=2025-03&format=pdf&lang=zh-CN&city=370100",
    ]
    got = client.get(buttons[0])
    assert got.status_code == 200 and got.headers["content-type"] == XLSX
    ent = client.get(f"/enterprises/{province['ent']}?period=2025-03")
    (xlsx, _pdf) = _hrefs(ent.text, "/api/v1/reports/enterprise?")
    assert "enterprise=91370100MA3C4XYZ1Q" in xlsx
    assert client.get(xlsx).headers["content-type"] == XLSX
    # another city's report is not found (the API's scope), even by editing the button
    assert client.get(buttons[0].replace("370100", "370200")).status_code == 404
    page = client.get("/reports?period=2025-03")
    assert page.status_code == 200 and "两高行业能耗与碳排放月度统计分析" in page.text
    assert "/api/v1/reports/monthly?period=2025-03&amp;format=xlsx" in page.text
    assert "还没有存档的报表" in page.text and "没有定时报表" in page.text
    # a city's report (weekly): for a city user, of their city; on the province's page, none
    assert "/api/v1/reports/weekly?period=2025-03&amp;format=xlsx&amp;lang=zh-CN&amp;city=370100" \
        in page.text  # fmt: skip
    client.cookies.clear()
    sign_in(client, "sd")
    assert "/api/v1/reports/weekly?" not in client.get("/reports?period=2025-03").text
    assert "/api/v1/reports/weekly?" not in client.get("/?period=2025-03").text
    assert "/api/v1/reports/weekly?" in client.get("/regions/370100?period=2025-03").text


def test_the_archive_lists_and_serves_the_users_generated_reports(
    client: TestClient, province: dict[str, int], settings: Settings, engine: Engine
) -> None:
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        jinan = scheduler.principal_of(session, "jinan")
        req = scheduler.ScheduleRequest("monthly", "monthly", "08:00", ("a@example.org",),
                                        city="370100")  # fmt: skip
        scheduler.add_schedule(session, jinan, req)
    result = scheduler.TickResult()
    scheduler.generate_due(factory, settings, utcnow() + timedelta(days=40), result)
    assert len(result.generated) == 1
    sign_in(client, "jinan")
    page = client.get("/reports")
    (href,) = _hrefs(page.text, "/api/v1/reports/archive/")
    assert client.get(href).headers["content-type"] == XLSX
    assert "a@example.org" in page.text  # the schedule, with its recipients
    client.cookies.clear()
    sign_in(client, "qingdao")  # not the owner: neither listed nor served
    assert _hrefs(client.get("/reports").text, "/api/v1/reports/archive/") == []
    assert client.get(href).status_code == 404
