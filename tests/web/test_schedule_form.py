"""Report schedules are created, changed and deleted from the /reports pages with the API's
checks and jurisdiction: bad input is refused with the field named and nothing stored, a
city outside the user's jurisdiction is "not found", another user's schedule cannot be seen,
changed or deleted, and a change of timing counts from the change."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pages_support import csrf_token, sign_in
from sqlalchemy import Engine, select

from kilnwatch.store.engine import make_session_factory
from kilnwatch.store.models import ReportSchedule

FORM = {"report": "monthly", "rule": "monthly", "weekday": "1", "day_of_month": "3",
        "time_of_day": "08:00", "format": "xlsx", "lang": "zh-CN", "city": "370100",
        "enterprise": "", "recipients": "a@example.org\nb@example.org"}  # fmt: skip


def _post(client: TestClient, path: str, form: dict[str, str], page: str) -> tuple[int, str, str]:
    data = {**form, "csrf_token": csrf_token(client.get(page).text)}
    r = client.post(path, data=data, follow_redirects=False)
    return r.status_code, r.text, r.headers.get("location", "")


def _schedules(engine: Engine) -> list[ReportSchedule]:
    with make_session_factory(engine)() as session:
        return list(session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)))


def test_a_schedule_is_created_changed_and_deleted_from_the_page(
    client: TestClient, province: dict[str, int], engine: Engine
) -> None:
    sign_in(client, "jinan")
    new = "/reports/schedules/new"
    assert 'id="schedule-form"' in client.get(new).text
    status, _, location = _post(client, "/reports/schedules", FORM, new)
    assert status == 303
    (made,) = _schedules(engine)
    assert location == f"/reports?done={made.id}#schedules"
    assert (made.owner, made.city, made.rule, made.day_of_month, made.recipients) == (
        "jinan", "370100", "monthly", 3, ["a@example.org", "b@example.org"])  # fmt: skip
    page = client.get("/reports").text
    assert f'href="/reports/schedules/{made.id}"' in page and "每月 3 日" in page
    api = client.get("/api/v1/reports/schedules").json()  # the API shows the same schedule
    assert [(s["id"], s["city"], s["time_of_day"]) for s in api] == [(made.id, "370100", "08:00")]

    edit = f"/reports/schedules/{made.id}"
    form = client.get(edit).text
    assert 'value="370100"' in form and "a@example.org\nb@example.org</textarea>" in form
    changed = {**FORM, "rule": "weekly", "weekday": "3", "time_of_day": "09:30", "format": "pdf"}
    status, _, _ = _post(client, edit, changed, edit)
    assert status == 303
    (after,) = _schedules(engine)
    assert (after.rule, after.weekday, after.time_of_day, after.format) == (
        "weekly", 3, "09:30", "pdf")  # fmt: skip
    assert after.created_at > made.created_at  # a new timing counts from the change

    client.cookies.clear()
    sign_in(client, "qingdao")  # not the owner: neither shown nor changed nor deleted
    assert client.get(edit).status_code == 404
    status, _, _ = _post(client, f"{edit}/delete", {}, "/reports")
    assert status == 404
    assert f'href="{edit}"' not in client.get("/reports").text

    client.cookies.clear()
    sign_in(client, "jinan")
    status, _, _ = _post(client, f"{edit}/delete", {}, edit)
    assert status == 303
    (stopped,) = _schedules(engine)
    assert not stopped.active  # stopped, its archive kept
    assert f'href="{edit}"' not in client.get("/reports").text


def test_the_form_refuses_what_the_api_refuses(
    client: TestClient, province: dict[str, int], engine: Engine
) -> None:
    sign_in(client, "jinan")
    new = "/reports/schedules/new"
    for change, shown in [
        ({"recipients": "not-an-address"}, "无法保存（收件人）"),
        ({"time_of_day": "25:00"}, "无法保存（时间（本地时间，HH:MM））"),
        ({"report": "enterprise"}, "无法保存（企业统一社会信用代码）"),
        ({"format": "csv"}, "无法保存（格式）"),
        ({"city": "370200"}, "不存在或不在您的辖区内（city 370200 not found）"),  # outside Jinan
        ({"day_of_month": "31"}, "无法保存（每月第几日（1–28，按月报表））"),
    ]:
        status, html, _ = _post(client, "/reports/schedules", {**FORM, **change}, new)
        assert status == 422 and shown in html, (change, html[:2000])
        assert 'id="schedule-form"' in html  # the form again, with what was typed
    assert _schedules(engine) == []
    r = client.post("/reports/schedules", data=FORM, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
