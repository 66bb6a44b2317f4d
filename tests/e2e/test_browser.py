"""The web application in headless chromium against a real ``kilnwatch serve`` of a small
simulated province (16 enterprises, one per city, 6 days): sign-in and scoping by role and
jurisdiction, the drill from the province to a meter, acting on a finding, an upload with row
errors, the API docs with no network, language, error pages and a phone-sized screen.

Screenshots of every main page go to var/test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_browser import Session, kilnwatch, launch, serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("province")
    env = {**os.environ, "KILNWATCH_VAR_DIR": str(var), "KILNWATCH_DATABASE_URL": "",
           "KILNWATCH_ENVIRONMENT": "test"}  # fmt: skip
    log = var / "kilnwatch.log"
    kilnwatch("demo", "--no-serve", "--enterprises", "16", "--days", "6", "--start",
              "2025-03-26", env=env, log=log, timeout=300)  # fmt: skip
    with serve(env, log) as base:
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p, tmp_path_factory.mktemp("profile"))
        yield b
        b.close()


@pytest.fixture
def open_session(browser: Any, site: str) -> Iterator[Any]:
    opened: list[Session] = []

    def make(**kw: Any) -> Session:
        s = Session(browser, site, **kw)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


def _table_texts(s: Session, table_id: str, column: int = 0) -> list[str]:
    cells = s.page.locator(f"table#{table_id} tbody tr td:nth-child({column + 1})")
    return [c.strip() for c in cells.all_inner_texts()]


def test_city_and_enterprise_users_see_only_their_jurisdiction(open_session: Any) -> None:
    s = open_session()
    s.go("/")
    assert "公开数据" in s.page.inner_text("h1")
    s.shot("public-overview")
    s.sign_in("jinan")
    assert s.page.url.endswith("/regions/370100")
    assert s.page.inner_text("#page-title").startswith("济南市")
    enterprises = _table_texts(s, "enterprises")
    assert enterprises and all("济南" in name for name in enterprises)
    s.shot("city")
    assert s.go("/regions/370200").status == 404  # Qingdao is outside Jinan's jurisdiction
    assert "未找到" in s.page.inner_text("h1")
    assert s.go("/").url.endswith("/regions/370100")  # no province view for a city user
    other = s.page.request.get(s.base + "/api/v1/enterprises?limit=500").json()
    assert {e["region_code"][:4] for e in other["items"]} == {"3701"}

    e = open_session()
    e.sign_in("qiye")
    assert re.search(r"/enterprises/\d+$", e.page.url)
    own = e.page.url.rsplit("/", 1)[1]
    assert "findings" not in e.page.inner_text("#nav")  # enterprise users have no queue
    assert e.go("/regions/370100").status == 404
    listed = e.page.request.get(e.base + "/api/v1/enterprises").json()["items"]
    assert [str(x["id"]) for x in listed] == [own]


def test_drill_from_the_province_to_a_meter(open_session: Any) -> None:
    s = open_session()
    s.sign_in("shandong")
    assert s.page.inner_text("#page-title").startswith("山东省")
    s.page.wait_for_selector("#map-cities[data-ready='1']")
    assert len(_table_texts(s, "children")) == 16  # every city of Shandong has data
    s.shot("province-overview")
    s.page.click("table#children a:text('济南市')")
    s.page.wait_for_load_state("networkidle")
    assert s.page.url.endswith("/regions/370100")
    s.page.click("table#enterprises tbody tr:first-child a")
    s.page.wait_for_load_state("networkidle")
    assert "/enterprises/" in s.page.url
    assert s.page.locator("#sec-units table#units tbody tr").count() >= 1
    s.page.wait_for_selector("#chart-chart[data-ready='1']")
    s.shot("enterprise")
    s.page.click("table#units tbody tr:first-child td:first-child a")
    s.page.wait_for_load_state("networkidle")
    assert "/units/" in s.page.url
    s.shot("unit")
    s.page.click("table#meters tbody tr:first-child td:first-child a")
    s.page.wait_for_load_state("networkidle")
    assert "/meters/" in s.page.url
    chart = s.page.locator("#meter-chart")
    s.page.wait_for_selector("#meter-chart[data-ready='1']")
    assert int(chart.get_attribute("data-points") or 0) > 0
    s.page.select_option("#resolution", "raw")
    s.page.wait_for_selector("#meter-chart[data-ready='1']")
    assert int(chart.get_attribute("data-points") or 0) > 24  # 15-minute readings
    assert s.page.locator("table#versions tbody tr").count() > 0
    s.shot("meter")
    csv = s.page.request.get(s.page.url + "?format=csv&table=versions")
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")


def test_act_on_a_finding_with_a_required_comment(open_session: Any) -> None:
    s = open_session()
    s.sign_in("shandong")
    s.go("/findings?status=open&sort=severity")
    assert s.page.locator("table#queue tbody tr").count() > 0
    s.shot("findings")
    s.page.click("table#queue tbody tr:first-child td:nth-child(2) a")
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator("#evidence-panel table#evidence tbody tr").count() > 0
    s.page.click("#act-dismiss button")  # no comment: refused, nothing recorded
    s.page.wait_for_load_state("networkidle")
    assert "请填写意见" in s.page.inner_text("#action-error")
    assert "待处理" in s.page.inner_text("#finding-status")
    s.page.fill("#act-dismiss textarea", "现场核实：计量器具更换导致，已说明")
    s.page.click("#act-dismiss button")
    s.page.wait_for_load_state("networkidle")
    assert "已排除" in s.page.inner_text("#finding-status")
    history = s.page.locator("table#history tbody tr").first.inner_text()
    assert "shandong" in history and "现场核实" in history
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", history)  # when, in local time
    s.shot("finding")


def test_upload_a_registry_file_with_errors(open_session: Any, tmp_path: Path) -> None:
    bad = tmp_path / "enterprises.csv"
    bad.write_text(
        "uscc,name,region_code,industry,status\n"
        "91370100MA3C4XY21E,济南示例水泥有限公司,370112,cement,operating\n"
        "not-a-uscc,坏行一,370112,cement,operating\n"
        "91370200163562681G,坏行二,999999,unknown_industry,operating\n",
        encoding="utf-8",
    )
    s = open_session()
    s.sign_in("admin")
    s.go("/admin/uploads")
    s.page.select_option("#upload-kind", "registry")
    s.page.set_input_files("#upload-file", str(bad))
    s.page.click("#upload-submit")
    s.page.wait_for_load_state("networkidle")
    assert "未导入" in s.page.inner_text("#upload-refused")
    rows = _table_texts(s, "row_errors", 1)
    assert {"2", "3"} <= set(rows)  # the two bad data rows, by their row number
    fields = set(_table_texts(s, "row_errors", 2))
    assert {"uscc", "region_code"} <= fields or {"uscc", "industry"} <= fields
    s.shot("uploads")
    s.go("/admin/users")
    assert "jinan" in s.page.inner_text("table#users")
    s.shot("users")
    s.go("/quality")
    assert s.page.locator("table#by_city tbody tr").count() == 16
    s.shot("quality")
    assert s.page.locator("table#forwarding").count() == 1
    s.go("/reports")
    assert s.page.locator("#catalogue a.button").count() >= 2  # monthly: XLSX and PDF
    s.shot("reports")


def test_api_docs_render_without_network(open_session: Any) -> None:
    s = open_session()
    s.go("/docs")
    s.page.wait_for_selector("#swagger-ui .info .title", timeout=15_000)
    assert "kilnwatch" in s.page.inner_text("#swagger-ui .info .title")
    s.shot("docs")
    s.go("/redoc")
    s.page.wait_for_selector("redoc h1, [role=main] h1, h1", timeout=15_000)
    assert "kilnwatch" in s.page.content()
    # Session.close (at teardown) fails the test if any page asked for another host


def test_language_errors_and_a_phone_screen(open_session: Any) -> None:
    s = open_session(viewport={"width": 390, "height": 844})
    s.sign_in("shandong")
    s.page.click("#lang-switch")
    s.page.wait_for_load_state("networkidle")
    assert s.page.inner_text("#page-title").startswith("Shandong")
    assert "Findings" in s.page.inner_text("#nav")
    wide = s.page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 392, "the page itself must not scroll sideways on a phone"
    scrolls = s.page.evaluate(
        "[...document.querySelectorAll('.scroll')].some(e => e.scrollWidth > e.clientWidth)"
    )
    assert scrolls, "wide tables scroll inside their own box"
    s.shot("phone-overview-en")
    assert s.go("/no/such/page").status == 404
    assert "Not found" in s.page.inner_text("h1")
    s.go("/signin")  # signed in already: sent home
    assert not s.page.url.endswith("/signin")
    s.page.click("#signout")
    s.page.wait_for_load_state("networkidle")
    assert s.page.url.endswith("/signin")
    assert s.go("/quality").url.endswith("/signin?next=/quality")


def test_schedule_a_report_and_download_one_from_the_page(open_session: Any) -> None:
    s = open_session()
    s.sign_in("jinan")
    s.go("/reports")
    with s.page.expect_download() as got:  # a catalogue button: the city's monthly report
        s.page.click("tr[data-report='monthly'] a.button:text('XLSX')")
    assert got.value.suggested_filename.endswith(".xlsx")
    assert Path(got.value.path()).read_bytes()[:2] == b"PK"  # an XLSX (zip) file
    s.page.click("#schedule-new")
    s.page.wait_for_load_state("networkidle")
    s.page.select_option("select[name=report]", "monthly")
    s.page.select_option("select[name=rule]", "weekly")
    s.page.select_option("select[name=weekday]", "1")
    s.page.fill("input[name=time_of_day]", "07:30")
    s.page.fill("textarea[name=recipients]", "not-an-address")
    s.page.click("#schedule-save")
    s.page.wait_for_load_state("networkidle")
    assert "收件人" in s.page.inner_text("#schedule-error")  # refused, the form kept
    s.page.fill("textarea[name=recipients]", "jinan-office@example.org")
    s.shot("schedule-form")
    s.page.click("#schedule-save")
    s.page.wait_for_load_state("networkidle")
    assert "已保存" in s.page.inner_text("#schedule-saved")
    row = s.page.locator("table#schedules tbody tr").first.inner_text()
    assert "07:30" in row and "星期一" in row and "jinan-office@example.org" in row
    s.shot("reports-schedules")
    s.page.click("table#schedules tbody tr:first-child a:text('修改')")
    s.page.wait_for_load_state("networkidle")
    s.page.fill("input[name=time_of_day]", "09:00")
    s.page.click("#schedule-save")
    s.page.wait_for_load_state("networkidle")
    assert "09:00" in s.page.locator("table#schedules tbody tr").first.inner_text()
    s.page.click("table#schedules tbody tr:first-child a:text('修改')")
    s.page.wait_for_load_state("networkidle")
    s.page.click("#schedule-delete button")
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator("table#schedules tbody tr td a").count() == 0  # deleted: not listed
