"""Departments are set on an administration page (issue 15), not only from the CLI: the admin
sees every staff user's department and changes it; nobody else may."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kilnwatch.identity import Principal, Role
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.supervise.access import department_of

sys.path.insert(0, str(Path(__file__).parent))
from _factory import build, sign_in, token  # noqa: E402


def test_admin_sets_a_department_in_the_browser(browser: TestClient, engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        build(session)
    sign_in(browser, "jinan")
    assert browser.get("/admin/departments").status_code == 403
    sign_in(browser, "admin")
    page = browser.get("/admin/departments")
    assert page.status_code == 200 and 'id="department-form"' in page.text
    assert "jinan_stats" in page.text and "qiye" not in page.text  # staff only
    r = browser.post("/admin/departments", data={
        "username": "jinan", "department": "ecology_environment",
        "csrf_token": token(page.text)}, follow_redirects=True)  # fmt: skip
    assert r.status_code == 200 and 'id="dept-done"' in r.text
    bad = browser.post("/admin/departments", data={
        "username": "qiye", "department": "statistics", "csrf_token": token(r.text)})  # fmt: skip
    assert bad.status_code == 422 and 'id="dept-error"' in bad.text
    unknown = browser.post("/admin/departments", data={
        "username": "jinan", "department": "nope", "csrf_token": token(r.text)})  # fmt: skip
    assert unknown.status_code == 422
    browser.get("/lang", params={"to": "en"})
    assert "Departments" in browser.get("/admin/departments").text
    with unit_of_work(make_session_factory(engine)) as session:
        assert department_of(session, Principal("jinan", Role.CITY)) == "ecology_environment"
