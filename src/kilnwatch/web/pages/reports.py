"""``/reports``: the reports catalogue (``reports/catalogue.py``) with a download button per
format for the chosen period, the user's report archive (scheduled and generated reports) and
their schedules; :func:`report_links` gives the region and enterprise pages their buttons.

Schedules are created, changed and deleted (stopped) from ``/reports/schedules/…`` forms
through the same functions as the API (``reports/scheduler.py``), so the checks and the
jurisdiction are the API's: a city or enterprise outside it is "not found".

Downloads go to the reports API (``GET /api/v1/reports/{name}``), which a signed-in browser
may read with its cookie; every report is computed under the user's principal, so a button
never reaches outside the jurisdiction (docs/reports.md).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Path
from fastapi.responses import Response

from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.identity import Principal
from kilnwatch.reports import scheduler
from kilnwatch.reports.catalogue import REPORTS, report_spec
from kilnwatch.store.repos.figures import Where
from kilnwatch.web.pages._period import picked_period
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
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
        if spec.needs_enterprise != (enterprise is not None) or (spec.needs_city and not city):
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
         "when": _when(env, s), "recipients": ", ".join(s.recipients),
         "active": "yes" if s.active else "no",
         "edit": env.t("schedule.edit_link"), "href": f"/reports/schedules/{s.id}"}
        for s in scheduler.list_schedules(env.db, me) if s.report in REPORTS and s.active
    ]  # fmt: skip
    return Table("schedules", [
        Col("id", "col.id", "num"), Col("report", "col.report"), Col("rule", "col.rule_when"),
        Col("when", "schedule.when"), Col("time", "col.time"), Col("scope", "col.scope", "code"),
        Col("format", "col.format"), Col("recipients", "col.recipients"),
        Col("edit", "schedule.change", link="href"),
    ], rows, empty="table.no_schedules")  # fmt: skip


def _when(env: PageEnv, s: Any) -> str:
    if s.rule == "weekly":
        return env.t(f"weekday.{s.weekday}")
    return env.t("schedule.day_n", n=s.day_of_month)


@router.get("/reports")
def reports_page(env: SignedIn) -> Response:
    me = env.me
    period, picker = picked_period(env, Where(me))
    # a city's report (weekly) is offered here for a city user's own city; others download
    # it from a city page, an enterprise's report from the enterprise page
    own_city = me.region_code if _is_city(me.region_code) else None
    catalogue = [
        {"name": s.name, "title": env.name(s.title.zh, s.title.en),
         "description": env.name(s.description.zh, s.description.en),
         "elsewhere": "reports.from_enterprise_page" if s.needs_enterprise else
                      "reports.from_city_page" if s.needs_city and not own_city else None,
         "files": [(f.upper(), report_url(s.name, period, f, env.locale,
                                          city=own_city if s.needs_city else None))
                   for f in s.formats]}
        for s in REPORTS.values()
    ]  # fmt: skip
    context = {"picker": picker, "period": period, "catalogue": catalogue,
               "crumbs": [(env.t("nav.reports"), None)],
               "done": env.request.query_params.get("done")}  # fmt: skip
    return env.render("reports.html", context, [_archive(env, me), _schedules(env, me)])


def _is_city(code: str | None) -> bool:
    return code is not None and code.endswith("00") and not code.endswith("0000")


FORM_DEFAULTS = {"report": "monthly", "rule": "monthly", "weekday": "1", "day_of_month": "1",
                 "time_of_day": "08:00", "format": "xlsx", "lang": "zh-CN", "city": "",
                 "enterprise": "", "recipients": ""}  # fmt: skip


def _form_page(
    env: PageEnv, values: dict[str, str], schedule_id: int | None = None,
    error: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    reports = [(s.name, env.name(s.title.zh, s.title.en), s.formats, s.needs_enterprise)
               for s in REPORTS.values()]  # fmt: skip
    title = env.t("schedule.edit") if schedule_id else env.t("schedule.new")
    context = {"values": values, "schedule_id": schedule_id, "error": error, "title": title,
               "reports": reports, "weekdays": range(1, 8), "langs": ("zh-CN", "en"),
               "crumbs": [(env.t("nav.reports"), "/reports"), (title, None)]}  # fmt: skip
    return env.render("report_schedule.html", context, status_code=status)


def _request(values: dict[str, str]) -> scheduler.ScheduleRequest:
    def number(field: str) -> int:
        try:
            return int(values[field])
        except ValueError:
            raise InputError(f"{field} must be a whole number", field=field) from None

    recipients = tuple(r for r in values["recipients"].replace(",", "\n").split() if r)
    return scheduler.ScheduleRequest(
        values["report"], values["rule"], values["time_of_day"].strip(), recipients,
        values["format"], values["lang"], values["city"].strip() or None,
        values["enterprise"].strip() or None, number("weekday"), number("day_of_month"),
    )  # fmt: skip


def _save(env: PageEnv, values: dict[str, str], schedule_id: int | None) -> Response:
    try:
        req = _request(values)
        if schedule_id is None:
            saved = scheduler.add_schedule(env.db, env.me, req)
        else:
            saved = scheduler.update_schedule(env.db, env.me, schedule_id, req)
    except (InputError, NotFoundError) as exc:
        env.db.rollback()
        if isinstance(exc, NotFoundError):  # outside the jurisdiction or not there: the same
            message = env.t("schedule.not_found", message=exc.message)
        else:
            where = exc.location.field
            message = env.t("schedule.error", field=env.t(f"schedule.{where}") if where else "",
                            message=exc.message)  # fmt: skip
        return _form_page(env, values, schedule_id, message, status=422)
    return done(env, f"/reports?done={saved.id}#schedules")


ScheduleId = Path(ge=1, le=2**31 - 1)
Text = Annotated[str, Form(max_length=2000)]


class ScheduleForm:
    """The fields of the schedule form, as typed (checked by ``reports/scheduler.py``)."""

    def __init__(
        self, report: Text, rule: Text, time_of_day: Text, format: Text,
        weekday: Text = "1", day_of_month: Text = "1", lang: Text = "zh-CN", city: Text = "",
        enterprise: Text = "", recipients: Text = "",
    ) -> None:  # fmt: skip
        self.values = {
            "report": report, "rule": rule, "weekday": weekday, "day_of_month": day_of_month,
            "time_of_day": time_of_day, "format": format, "lang": lang, "city": city,
            "enterprise": enterprise, "recipients": recipients,
        }  # fmt: skip


FormDep = Annotated[ScheduleForm, Depends()]


@router.get("/reports/schedules/new")
def new_schedule_page(env: SignedIn) -> Response:
    return _form_page(env, dict(FORM_DEFAULTS))


@router.post("/reports/schedules")
def create_schedule_form(env: SignedIn, form: FormDep) -> Response:
    return _save(env, form.values, None)


@router.get("/reports/schedules/{schedule_id}")
def edit_schedule_page(env: SignedIn, schedule_id: int = ScheduleId) -> Response:
    s = scheduler.get_schedule(env.db, env.me, schedule_id)
    form = ScheduleForm(s.report, s.rule, s.time_of_day, s.format, str(s.weekday),
                        str(s.day_of_month), s.lang, s.city or "", s.enterprise_uscc or "",
                        "\n".join(s.recipients))  # fmt: skip
    return _form_page(env, form.values, schedule_id)


@router.post("/reports/schedules/{schedule_id}")
def update_schedule_form(env: SignedIn, form: FormDep, schedule_id: int = ScheduleId) -> Response:
    return _save(env, form.values, schedule_id)


@router.post("/reports/schedules/{schedule_id}/delete")
def delete_schedule_form(env: SignedIn, schedule_id: int = ScheduleId) -> Response:
    """Stop the schedule (its archived reports stay), as ``DELETE`` in the API."""
    scheduler.cancel_schedule(env.db, env.me, schedule_id)
    return done(env, "/reports#schedules")
