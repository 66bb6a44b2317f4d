"""``/reports``: the reports catalogue (``reports/catalogue.py``) with a download button per
format for the chosen period, the user's report archive (scheduled and generated reports) and
their schedules; :func:`report_links` gives the region and enterprise pages their buttons.

Downloads go to the reports API (``GET /api/v1/reports/{name}``), which a signed-in browser
may read with its cookie; every report is computed under the user's principal, so a button
never reaches outside the jurisdiction (docs/reports.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi.responses import Response

from kilnwatch.identity import Principal
from kilnwatch.reports import scheduler
from kilnwatch.reports.catalogue import REPORTS, report_spec
from kilnwatch.store.repos.figures import Where
from kilnwatch.web.pages._period import picked_period
from kilnwatch.web.pages.kit import PageEnv, SignedIn, page_router
from kilnwatch.web.pages.registry import NavItem, add_nav
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.seam import Period

router = page_router()
ARCHIVE_SHOWN = 100
API = "/api/v1/reports"

add_nav(NavItem("reports", "nav.reports", "/reports", order=60))


def report_url(name: str, period: Period, fmt: str, lang: str, **scope: str | None) -> str:
    query = {"period": period.label, "format": fmt, "lang": lang}
    query.update({k: v for k, v in scope.items() if v})
    return f"{API}/{name}?{urlencode(query)}"


def report_links(
    env: PageEnv, period: Period, *, city: str | None = None, enterprise: str | None = None
) -> list[dict[str, Any]]:
    """Buttons of the reports that fit a page: the region reports on a region page (narrowed
    to ``city``), the enterprise reports on an enterprise page (``enterprise`` = USCC)."""
    out = []
    for spec in REPORTS.values():
        if spec.needs_enterprise != (enterprise is not None):
            continue
        out.append({
            "name": spec.name, "title": env.name(spec.title.zh, spec.title.en),
            "files": [(fmt.upper(), report_url(spec.name, period, fmt, env.locale, city=city,
                                                enterprise=enterprise))
                      for fmt in spec.formats],
        })  # fmt: skip
    return out


def _archive(env: PageEnv, me: Principal) -> Table:
    entries, total = scheduler.list_archive(env.db, me, 0, ARCHIVE_SHOWN)
    rows = []
    for e in entries:
        spec = REPORTS.get(e.report)
        rows.append({
            "id": e.id, "report": env.name(spec.title.zh, spec.title.en) if spec else e.report,
            "period": e.period, "scope": e.scope, "format": e.format.upper(),
            "status": e.status, "generated_at": e.generated_at,
            "file": e.filename or (e.error or "")[:80],
            "href": f"{API}/archive/{e.id}/file" if e.path else None,
        })  # fmt: skip
    return Table("archive", [
        Col("id", "col.id", "num"), Col("report", "col.report"), Col("period", "col.period"),
        Col("scope", "col.scope", "code"), Col("format", "col.format"),
        Col("status", "col.status", "badge", badge_prefix="archive."),
        Col("generated_at", "col.generated_at", "time"),
        Col("file", "col.file", link="href"),
    ], rows, wide=True, empty="table.no_archive",
        note=env.t("reports.archive_shown", n=len(rows), total=total))  # fmt: skip


def _schedules(env: PageEnv, me: Principal) -> Table:
    rows = [
        {"id": s.id, "report": env.name(report_spec(s.report).title.zh,
                                        report_spec(s.report).title.en),
         "rule": env.t(f"schedule.{s.rule}"), "time": s.time_of_day,
         "scope": s.enterprise_uscc or s.city or "", "format": s.format.upper(),
         "recipients": ", ".join(s.recipients), "active": "yes" if s.active else "no"}
        for s in scheduler.list_schedules(env.db, me) if s.report in REPORTS
    ]  # fmt: skip
    return Table("schedules", [
        Col("id", "col.id", "num"), Col("report", "col.report"), Col("rule", "col.rule_when"),
        Col("time", "col.time"), Col("scope", "col.scope", "code"),
        Col("format", "col.format"), Col("recipients", "col.recipients"),
        Col("active", "col.active", "badge", badge_prefix="yesno."),
    ], rows, empty="table.no_schedules")  # fmt: skip


@router.get("/reports")
def reports_page(env: SignedIn) -> Response:
    me = env.me
    period, picker = picked_period(env, Where(me))
    catalogue = [
        {"name": s.name, "title": env.name(s.title.zh, s.title.en),
         "description": env.name(s.description.zh, s.description.en),
         "needs_enterprise": s.needs_enterprise,
         "files": [(f.upper(), report_url(s.name, period, f, env.locale)) for f in s.formats]}
        for s in REPORTS.values()
    ]  # fmt: skip
    context = {"picker": picker, "period": period, "catalogue": catalogue,
               "crumbs": [(env.t("nav.reports"), None)]}  # fmt: skip
    return env.render("reports.html", context, [_archive(env, me), _schedules(env, me)])
