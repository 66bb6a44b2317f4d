"""Cached page figures follow the data: an upload changes the pages of its period (and only
recomputes those), an action on a finding changes the open-finding counts; and the SQL
statements a page issues are bounded (no query per enterprise, unit or meter)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from pages_support import csrf_token, sign_in
from sqlalchemy import Engine, event, select

from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import Enterprise, Meter, ProductionUnit, Rollup
from kilnwatch.web.pages.common_figures import Prewarmer


def _table(client: TestClient, path: str, table: str) -> list[list[str]]:
    """The rows of a page table's CSV twin (header first)."""
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}format=csv&table={table}")
    assert r.status_code == 200, r.text
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def _coal(client: TestClient, period: str) -> float:
    """Coal consumption [t] of Jinan in ``period``, from the city page's totals."""
    rows = _table(client, f"/regions/370100?period={period}", "totals")
    (row,) = [r for r in rows if r[0] == "煤炭消费量"]
    return float(row[1] or 0.0)


def _upload(client: TestClient, text: str) -> None:
    token = csrf_token(client.get("/admin/uploads").text)
    r = client.post("/admin/uploads", data={"kind": "readings", "csrf_token": token},
                    files={"file": ("r.csv", text.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 200 and "upload-done" in r.text, r.text


def test_an_upload_changes_the_figures_of_its_period_and_keeps_the_others(
    client: TestClient, province: dict[str, int]
) -> None:
    cache = client.app.state.figure_cache  # type: ignore[attr-defined]
    cache.refresh_s = 0.0  # no grace period: every data version is checked
    sign_in(client, "admin")
    march, april = _coal(client, "2025-03"), _coal(client, "2025-04")
    figures = {p: cache._entries[("figs", p)].value for p in ("2025-03", "2025-04")}
    _upload(client, "meter_code,ts,value,unit\nE-IN-COAL,2025-04-02T00:30:00+08:00,500,t\n")
    assert _coal(client, "2025-03") == march  # the same figures, not computed again
    assert cache._entries[("figs", "2025-03")].value is figures["2025-03"]
    assert _coal(client, "2025-04") == april + 500
    assert cache._entries[("figs", "2025-04")].value is not figures["2025-04"]
    _upload(client, "meter_code,ts,value,unit\nE-IN-COAL,2025-03-15T00:30:00+08:00,1000,t\n")
    assert _coal(client, "2025-03") == march + 1000


def test_an_action_on_a_finding_changes_the_open_counts(
    client: TestClient, province: dict[str, int]
) -> None:
    client.app.state.figure_cache.refresh_s = 0.0  # type: ignore[attr-defined]
    sign_in(client, "sd")

    def jinan_open() -> int:
        rows = _table(client, "/?period=2025-03", "children")
        return int(next(r[-1] for r in rows if r[0] == "济南市"))

    before = jinan_open()
    assert before > 0
    page = client.get(f"/findings/{province['finding']}")
    r = client.post(f"/findings/{province['finding']}/action", data={
        "action": "dismiss", "comment": "测试：已核实", "csrf_token": csrf_token(page.text)},
        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    assert jinan_open() == before - 1


@contextmanager
def _statements(client: TestClient) -> Iterator[list[str]]:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


# SQL statements of a page: (first view, every later view with unchanged data). A later view
# reads the session, the data version and what is not cached; the first computes the shared
# figures of its periods once for all enterprises (pages/common_figures.py).
BOUNDS = {
    "/": (35, 4),
    "/regions/370100": (35, 4),
    "/enterprises/{ent}": (30, 5),
    "/units/{unit}": (10, 5),
    "/meters/{meter}": (8, 7),
    "/findings": (8, 6),
    "/findings/{finding}": (8, 8),
    "/quality": (12, 3),
    "/reports": (6, 6),
}


def _copies(engine: Engine, n: int) -> None:
    """``n`` more cement plants in Jinan like the first: its unit, meters and monthly rollups."""
    with unit_of_work(make_session_factory(engine)) as session:
        first = session.scalars(select(Enterprise).order_by(Enterprise.id)).first()
        assert first is not None
        units = session.scalars(select(ProductionUnit).where(ProductionUnit.enterprise_id
                                                             == first.id)).all()  # fmt: skip
        meters = session.scalars(select(Meter).where(Meter.enterprise_id == first.id)).all()
        for i in range(n):
            e = Enterprise(uscc=f"91370100MA3C4X{i:03d}Q", name=f"复制{i}", region_code="370112",
                           industry=first.industry)  # fmt: skip
            session.add(e)
            session.flush()
            new_unit = {}
            for u in units:
                copy = ProductionUnit(enterprise_id=e.id, code=u.code, name=u.name,
                                      process=u.process, capacity=u.capacity,
                                      capacity_unit=u.capacity_unit)  # fmt: skip
                session.add(copy)
                session.flush()
                new_unit[u.id] = copy.id
            for m in meters:
                copy_m = Meter(code=f"{m.code}-{i}", enterprise_id=e.id, carrier=m.carrier,
                               unit_id=new_unit.get(m.unit_id or 0), level=m.level,
                               measurement=m.measurement,
                               unit_of_measure=m.unit_of_measure)  # fmt: skip
                session.add(copy_m)
                session.flush()
                months = select(Rollup).where(Rollup.meter_id == m.id, Rollup.grain == "month")
                for r in session.scalars(months):
                    session.add(Rollup(meter_id=copy_m.id, grain="month",
                                       period_start=r.period_start, sum=r.sum, count=r.count,
                                       min=r.min, max=r.max, first=r.first, last=r.last,
                                       first_ts=r.first_ts, last_ts=r.last_ts))  # fmt: skip


def _count_statements(client: TestClient, ids: dict[str, object]) -> dict[str, tuple[int, int]]:
    client.app.state.figure_cache._entries.clear()  # type: ignore[attr-defined]
    found = {}
    for template in BOUNDS:
        path = template.format(**ids) + "?period=2025-03"
        counts = []
        for _ in range(2):
            with _statements(client) as seen:
                assert client.get(path).status_code == 200, path
            counts.append(len(seen))
        found[template] = (counts[0], counts[1])
    return found


def test_pages_issue_a_bounded_number_of_statements(
    client: TestClient, province: dict[str, int], engine: Engine
) -> None:
    sign_in(client, "sd")
    ent = client.get(f"/enterprises/{province['ent']}").text
    unit = ent.split('href="/units/', 1)[1].split('"', 1)[0]
    ids = {"ent": province["ent"], "unit": unit, "meter": province["meter"],
           "finding": province["finding"]}  # fmt: skip
    found = _count_statements(client, ids)
    for template, (first, later) in found.items():
        assert first <= BOUNDS[template][0] and later <= BOUNDS[template][1], (template, found)
    # four times the enterprises, units and meters: not one statement more (no N+1)
    _copies(engine, 3)
    assert _count_statements(client, ids) == found


def test_the_prewarmer_leaves_the_overview_little_to_compute(
    client: TestClient, province: dict[str, int]
) -> None:
    app = client.app
    state = app.state  # type: ignore[attr-defined]
    warmer = Prewarmer(state.session_factory, state.figure_cache, "Asia/Shanghai", 0.05)
    warmer.start()
    try:
        for _ in range(200):
            if warmer.warmed is not None:
                break
            time.sleep(0.05)
    finally:
        warmer.stop()
    assert warmer.warmed is not None
    sign_in(client, "sd")
    with _statements(client) as seen:
        assert client.get("/").status_code == 200
    assert len(seen) <= 8, seen  # session, version, the scope's enterprises; figures cached
