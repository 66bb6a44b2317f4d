"""``/enterprises/{id}``: registry facts, the period's figures, and the sections registered for
the enterprise page (units, meters, daily chart, findings, credibility; later capabilities add
theirs with :func:`~kilnwatch.web.pages.registry.add_section`)."""

from __future__ import annotations

from typing import Any

from fastapi import Path
from fastapi.responses import Response
from sqlalchemy import func, select

from kilnwatch.store.models import Gateway, ProductionUnit
from kilnwatch.store.repos.figures import Where
from kilnwatch.store.repos.registry import get_enterprise
from kilnwatch.web.pages._period import picked_period
from kilnwatch.web.pages.common_figures import shared_figures
from kilnwatch.web.pages.kit import PageEnv, SignedIn, page_router
from kilnwatch.web.pages.registry import Section, SectionRequest, add_section, sections_for
from kilnwatch.web.pages.reports import report_links
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.enterprise import (
    accounts_of,
    daily_chart,
    enterprise_meters,
    findings_of,
    meter_rows,
    scores_of,
    unit_rows,
)
from kilnwatch.web.services.figures import change_fraction
from kilnwatch.web.services.findings_text import finding_message, rule_title
from kilnwatch.web.services.labels import city_of, industry_name, region_name

router = page_router()
Id = Path(ge=1, le=2**31 - 1)

UNIT_COLS = (
    Col("code", "col.unit", link="href"), Col("name", "col.name"), Col("process", "col.process"),
    Col("capacity", "col.capacity", "num"), Col("capacity_unit", "col.capacity_unit"),
    Col("energy_tce", "fig.units_energy_tce", "num", 0, unit="tce"),
    Col("intensity", "col.intensity", "num"), Col("intensity_unit", "col.intensity_unit"),
    Col("class", "col.class", "badge", badge_prefix="class."),
    Col("benchmark", "col.benchmark", "num"), Col("to_benchmark", "col.to_benchmark", "change"),
    Col("baseline", "col.baseline", "num"), Col("to_baseline", "col.to_baseline", "change"),
    Col("gap_tce", "col.gap_tce", "num", 0, unit="tce/a"), Col("notes", "col.notes"),
)  # fmt: skip
METER_COLS = (
    Col("code", "col.meter", "code", link="href"), Col("carrier", "col.carrier"),
    Col("level", "col.level"), Col("measurement", "col.measurement"),
    Col("unit", "col.unit_of_measure"),
    Col("latest", "col.latest", "num"), Col("latest_at", "col.latest_at", "time"),
    Col("online", "col.online", "badge", badge_prefix="online."),
    Col("accuracy", "col.accuracy"), Col("calibration_due", "col.calibration_due"),
)  # fmt: skip
FINDING_COLS = (
    Col("title", "col.rule", link="href"), Col("message", "col.message"),
    Col("period", "col.period"), Col("severity", "col.severity", "badge", badge_prefix="severity."),
    Col("status", "col.status", "badge", badge_prefix="status."),
    Col("tce", "col.magnitude_tce", "num", 0, unit="tce"),
)  # fmt: skip


def _units(req: SectionRequest) -> dict[str, Any]:
    env, e = req.env, req.subject
    accounts = accounts_of(env.db, env.me, e.id, req.period)
    names = dict(env.db.execute(select(ProductionUnit.id, ProductionUnit.name)
                                .where(ProductionUnit.enterprise_id == e.id)).all())  # fmt: skip
    rows = unit_rows(accounts, names, env.t)
    return {"tables": [Table("units", UNIT_COLS, rows, wide=True, note=env.t("note.unit_energy"))]}


def _meters(req: SectionRequest) -> dict[str, Any]:
    env = req.env
    rows = meter_rows(env.db, enterprise_meters(env.db, req.subject), None, env.t)
    return {"tables": [Table("meters", METER_COLS, rows, wide=True)]}


def _chart(req: SectionRequest) -> dict[str, Any]:
    env = req.env
    where = Where(env.me, enterprise_id=req.subject.id)
    return {"chart_json": daily_chart(env.db, where, req.period, env.t), "tables": []}


def finding_rows(env: PageEnv, findings: list[Any]) -> list[dict[str, Any]]:
    return [
        {"id": f.id, "href": f"/findings/{f.id}", "title": rule_title(f.rule_code, env.t),
         "message": finding_message(f.rule_code, f.evidence, f.message, env.t, env.tz),
         "period": f.period, "severity": f.severity, "status": f.status, "tce": f.magnitude_tce,
         "rule_code": f.rule_code}
        for f in findings
    ]  # fmt: skip


SECTION_FINDINGS = 30


def _findings(req: SectionRequest) -> dict[str, Any]:
    found = findings_of(req.env.db, req.subject.id)
    rows = finding_rows(req.env, found[:SECTION_FINDINGS])
    note = None
    if len(found) > SECTION_FINDINGS:
        note = req.env.t("findings.more", shown=SECTION_FINDINGS, total=len(found))
    table = Table("findings", FINDING_COLS, rows, wide=True, note=note)
    return {"tables": [table], "queue_href": f"/findings?enterprise={req.subject.id}&status="}


def _credibility(req: SectionRequest) -> dict[str, Any]:
    env, t = req.env, req.env.t
    scores = scores_of(env.db, req.subject.id)
    rows = [{"period": s.period, "score": s.score, "open": s.open_findings,
             "computed_at": s.computed_at} for s in scores]  # fmt: skip
    deductions = []
    for s in scores[:1]:
        for d in s.deductions:
            deductions.append({
                "period": s.period, "title": rule_title(str(d.get("rule_code", "")), t),
                "severity": d.get("severity"), "points": d.get("points"),
                "href": f"/findings/{d.get('finding_id')}",
            })  # fmt: skip
    return {"tables": [
        Table("credibility", [Col("period", "col.period"), Col("score", "col.score", "num", 1),
                              Col("open", "col.open_findings", "num"),
                              Col("computed_at", "col.computed_at", "time")], rows),
        Table("deductions", [Col("title", "col.rule", link="href"),
                             Col("severity", "col.severity", "badge", badge_prefix="severity."),
                             Col("points", "col.points", "num", 1), Col("period", "col.period")],
              deductions, empty="table.no_deductions"),
    ]}  # fmt: skip


SECTION_TEMPLATE = "sections/_tables.html"
add_section(Section("enterprise", "chart", "section.daily", "sections/_chart.html", _chart, 10))
add_section(Section("enterprise", "units", "section.units", SECTION_TEMPLATE, _units, 20))
add_section(Section("enterprise", "meters", "section.meters", SECTION_TEMPLATE, _meters, 30))
add_section(
    Section("enterprise", "findings", "section.findings", "sections/_findings.html", _findings, 40)
)
add_section(
    Section("enterprise", "credibility", "section.credibility", SECTION_TEMPLATE, _credibility, 50)
)


def run_sections(
    env: PageEnv, page: str, subject: Any, period: Any
) -> tuple[list[Any], list[Table]]:
    """Each visible section's (section, context), and every table for the CSV twins."""
    done, tables = [], []
    for section in sections_for(page, env.principal):
        ctx = section.load(SectionRequest(env, subject, period))
        if ctx is None:
            continue
        done.append((section, ctx))
        tables += ctx.get("tables", [])
    return done, tables


def cached_sections(
    env: PageEnv, page: str, subject: Any, period: Any
) -> tuple[list[Any], list[Table]]:
    """:func:`run_sections`, cached per subject, period, language and role (the caller has
    checked that the user may see the subject; sections are filtered by role)."""
    key = ("sections", page, subject.id, period.label, env.locale, env.me.role.value)
    return env.cached(key, lambda: run_sections(env, page, subject, period))


@router.get("/enterprises/{enterprise_id}")
def enterprise_page(env: SignedIn, enterprise_id: int = Id) -> Response:
    e = get_enterprise(env.db, env.me, enterprise_id)
    t = env.t
    where = Where(env.me, enterprise_id=e.id)
    period, picker = picked_period(env, where)
    figs = shared_figures(env, period).total({e.id})
    last = shared_figures(env, period.previous_year()).total({e.id})
    sections, tables = cached_sections(env, "enterprise", e, period)
    gateways = env.db.scalar(select(func.count(Gateway.id)).where(Gateway.enterprise_id == e.id))
    city = city_of(e.region_code)
    crumbs: list[tuple[str, str | None]] = [(region_name("370000", t), "/")]
    crumbs += [(region_name(city, t), f"/regions/{city}"), (e.name, None)]
    context = {
        "e": e, "picker": picker, "period": period, "figs": figs,
        "energy_change": change_fraction(figs.energy_tce, last.energy_tce),
        "industry": industry_name(e.industry, t), "county": region_name(e.region_code, t),
        "city": region_name(city, t), "gateways": gateways or 0, "sections": sections,
        "crumbs": crumbs, "report_links": report_links(env, period, enterprise=e.uscc),
    }  # fmt: skip
    return env.render("enterprise.html", context, tables)
