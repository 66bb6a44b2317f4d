"""``/metering``: the GB 17167 metering census of the user's jurisdiction (roll-out by city
against the 2022 / 2023 milestones, enterprises and their gaps), ``/metering/enterprises/{id}``:
one enterprise's census, gaps, calibration certificates and meter operation over the period,
and a "计量器具配备" section on the enterprise page (docs/metering.md)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Form, Path
from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.domain.periods import Period, parse_period
from kilnwatch.identity import Role
from kilnwatch.metering import EnterpriseCensus, enterprise_census, enterprise_operation
from kilnwatch.metering import gaps as g
from kilnwatch.metering.census import census_day
from kilnwatch.metering.rectify import rectify_census_gaps
from kilnwatch.metering.rollout import rollout
from kilnwatch.store.models import Meter, MeterCalibration
from kilnwatch.store.repos.figures import Where
from kilnwatch.store.repos.registry import get_enterprise
from kilnwatch.web.pages._period import picked_period
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.registry import NavItem, Section, SectionRequest, add_nav, add_section
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.labels import carrier_name, city_of, industry_name, region_name

router = page_router()
Id = Path(ge=1, le=2**31 - 1)
GAPS_SHOWN = 300

CENSUS_COLS = (
    Col("carrier", "col.carrier"), Col("level", "mt.col.level"),
    Col("required", "mt.col.required", "num"), Col("installed", "mt.col.installed", "num"),
    Col("rate", "mt.col.rate", "pct"), Col("min", "mt.col.min_rate", "pct", 0),
    Col("meets", "mt.col.meets", "badge", badge_prefix="mt.meets."),
    Col("missing", "mt.col.missing"),
)  # fmt: skip
GAP_COLS = (
    Col("code", "mt.col.gap", "badge", badge_prefix="mt.gap."), Col("carrier", "col.carrier"),
    Col("level", "mt.col.level"), Col("point", "mt.col.point", "code"),
    Col("meter", "col.meter", "code", link="meter_href"), Col("evidence", "mt.col.evidence"),
)  # fmt: skip

add_nav(NavItem("metering", "nav.metering", "/metering", order=38))


def _census_day(env: PageEnv, period: Period) -> Any:
    today = datetime.now(ZoneInfo(env.tz)).date()
    return census_day(period.stop - timedelta(days=1), today)


def _level(env: PageEnv, level: str) -> str:
    return env.t(f"mt.level.{level}") if level else ""


def census_rows(env: PageEnv, c: EnterpriseCensus) -> list[dict[str, Any]]:
    return [
        {"carrier": carrier_name(r.carrier, env.t), "level": _level(env, r.level),
         "required": r.required, "installed": r.installed,
         "rate": None if r.rate_pct is None else r.rate_pct / 100,
         "min": None if r.min_pct is None else r.min_pct / 100,
         "meets": "yes" if r.meets else "no", "missing": ", ".join(r.missing)}
        for r in c.rows
    ]  # fmt: skip


def gap_rows(env: PageEnv, c: EnterpriseCensus, meter_ids: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"code": x.code.removeprefix("metering."), "carrier": carrier_name(x.carrier, env.t)
         if x.carrier else "", "level": _level(env, x.level), "point": x.point_code,
         "meter": x.meter_code, "meter_href": f"/meters/{meter_ids[x.meter_code]}"
         if x.meter_code in meter_ids else None,
         "evidence": "; ".join(f"{k}={v}" for k, v in x.evidence.items() if v is not None)}
        for x in c.gaps
    ]  # fmt: skip


def _counts(c: EnterpriseCensus) -> Counter[str]:
    return Counter(x.code for x in c.gaps)


@router.get("/metering")
def metering_page(env: SignedIn) -> Response:
    where = Where(env.me)
    period, picker = picked_period(env, where)
    key = ("metering-page", env.scope_key, env.locale, period.label)
    context, tables = env.cached(key, lambda: _province(env, period))
    query = env.request.query_params
    extra = {"picker": picker, "can_rectify": env.me.role not in (Role.ENTERPRISE, Role.AUDITOR),
             "rectified": query.get("opened"), "already": query.get("existing")}  # fmt: skip
    return env.render("metering.html", {**context, **extra}, tables)


@router.post("/metering/rectify")
def metering_rectify(env: SignedIn, period: Annotated[str, Form()] = "") -> Response:
    """Open a rectification for every census non-conformity in the user's jurisdiction (the
    same gap never twice), then back to the page with the counts."""
    env.require(env.me.role not in (Role.ENTERPRISE, Role.AUDITOR), "regulators only")
    zone = ZoneInfo(env.tz)
    today = datetime.now(zone).date()
    chosen = parse_period(period, zone) if period else Period.containing("month", today, zone)
    result = rectify_census_gaps(env.db, env.me, _census_day(env, chosen), today)
    return done(env, f"/metering?opened={len(result.opened)}&existing={len(result.existing)}")


def _province(env: PageEnv, period: Period) -> tuple[dict[str, Any], list[Table]]:
    t = env.t
    day = _census_day(env, period)
    censuses = enterprise_census(env.db, env.me, day)
    ent_rows = []
    totals: Counter[str] = Counter()
    for c in censuses:
        n = _counts(c)
        totals.update(n)
        ent_rows.append({
            "name": c.name, "href": f"/metering/enterprises/{c.enterprise_id}",
            "city": region_name(city_of(c.region_code), t),
            "industry": industry_name(c.industry, t),
            "state": "configured" if c.configured else ("none" if not c.has_census else "gaps"),
            "missing": n[g.MISSING_INSTRUMENT], "accuracy": n[g.ACCURACY_BELOW]
            + n[g.ACCURACY_UNKNOWN], "overdue": n[g.CALIBRATION_OVERDUE],
            "due_soon": n[g.CALIBRATION_DUE_SOON], "meters": c.meters,
        })  # fmt: skip
    roll = [
        {"city": region_name(r.city_code, t), "href": f"/regions/{r.city_code}",
         "deadline": r.deadline.isoformat(),
         "industry": industry_name(r.industry, t),
         "enterprises": r.enterprises, "with_census": r.with_census, "configured": r.configured,
         "progress": r.progress_fraction, "behind": "behind" if r.behind(day) else "on_track"}
        for r in rollout(censuses)
    ]  # fmt: skip
    tables = [
        Table("rollout", [
            Col("city", "col.city", link="href"), Col("deadline", "mt.col.deadline"),
            Col("industry", "col.industry"), Col("enterprises", "col.enterprises", "num"),
            Col("with_census", "mt.col.with_census", "num"),
            Col("configured", "mt.col.configured", "num"),
            Col("progress", "mt.col.progress", "pct"),
            Col("behind", "mt.col.behind", "badge", badge_prefix="mt.rollout."),
        ], roll, wide=True),
        Table("enterprises", [
            Col("name", "col.enterprise", link="href"), Col("city", "col.city"),
            Col("industry", "col.industry"),
            Col("state", "mt.col.state", "badge", badge_prefix="mt.state."),
            Col("meters", "col.meters", "num"), Col("missing", "mt.col.missing_n", "num"),
            Col("accuracy", "mt.col.accuracy_n", "num"), Col("overdue", "mt.col.overdue_n", "num"),
            Col("due_soon", "mt.col.due_soon_n", "num"),
        ], ent_rows, wide=True),
    ]  # fmt: skip
    context = {
        "period": period, "census_day": day, "enterprises": len(censuses),
        "with_census": sum(c.has_census for c in censuses),
        "configured": sum(c.configured for c in censuses),
        "missing": totals[g.MISSING_INSTRUMENT],
        "accuracy": totals[g.ACCURACY_BELOW] + totals[g.ACCURACY_UNKNOWN],
        "overdue": totals[g.CALIBRATION_OVERDUE], "due_soon": totals[g.CALIBRATION_DUE_SOON],
        "crumbs": [(t("nav.metering"), None)],
    }  # fmt: skip
    return context, tables


@router.get("/metering/enterprises/{enterprise_id}")
def enterprise_metering_page(env: SignedIn, enterprise_id: int = Id) -> Response:
    e = get_enterprise(env.db, env.me, enterprise_id)
    period, picker = picked_period(env, Where(env.me, enterprise_id=e.id))
    key = ("metering-ent", e.id, env.locale, period.label)
    context, tables = env.cached(key, lambda: _enterprise(env, e, period))
    return env.render("metering_enterprise.html", {**context, "picker": picker}, tables)


def _enterprise(env: PageEnv, e: Any, period: Period) -> tuple[dict[str, Any], list[Table]]:
    t, db = env.t, env.db
    day = _census_day(env, period)
    c = enterprise_census(db, env.me, day, enterprise_ids=[e.id])[0]
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    op = enterprise_operation(db, [e.id], start, end, as_of=day)[e.id]
    meters = {m.code: m for m in db.scalars(select(Meter).where(Meter.enterprise_id == e.id))}
    ids = {code: m.id for code, m in meters.items()}
    op_rows = [
        {"code": m.meter_code, "href": f"/meters/{m.meter_id}",
         "carrier": carrier_name(meters[m.meter_code].carrier, t),
         "level": _level(env, meters[m.meter_code].level), "online": m.online_fraction,
         "completeness": m.completeness_fraction,
         "overdue": "overdue" if m.calibration_overdue else "ok",
         "events": ", ".join(t(f"mt.event.{x.code.rsplit('.', 1)[1]}") for x in m.events)}
        for m in op.meters
    ]  # fmt: skip
    events = [
        {"code": x.code.rsplit(".", 1)[1], "meter": x.meter_code, "href": f"/meters/{x.meter_id}",
         "start": x.start, "end": x.end, "hours": x.hours}
        for x in op.events
    ]  # fmt: skip
    certs = db.execute(
        select(MeterCalibration, Meter.code).join(Meter, Meter.id == MeterCalibration.meter_id)
        .where(Meter.enterprise_id == e.id)
        .order_by(Meter.code, MeterCalibration.calibrated_on.desc())
    ).all()  # fmt: skip
    cert_rows = [
        {"meter": code, "href": f"/meters/{cal.meter_id}", "no": cal.certificate_no,
         "on": cal.calibrated_on.isoformat(), "due": cal.due_on.isoformat(),
         "issuer": cal.issuer, "result": cal.result, "file": cal.certificate_file or ""}
        for cal, code in certs
    ]  # fmt: skip
    tables = [
        Table("census", CENSUS_COLS, census_rows(env, c), wide=True, empty="mt.no_census"),
        Table("gaps", GAP_COLS, gap_rows(env, c, ids)[:GAPS_SHOWN], wide=True,
              empty="mt.no_gaps"),
        Table("operation", [
            Col("code", "col.meter", "code", link="href"), Col("carrier", "col.carrier"),
            Col("level", "mt.col.level"), Col("online", "col.online_rate", "pct"),
            Col("completeness", "col.completeness", "pct"),
            Col("overdue", "mt.col.calibration", "badge", badge_prefix="mt.calibration."),
            Col("events", "mt.col.events"),
        ], op_rows, wide=True),
        Table("events", [
            Col("code", "mt.col.event", "badge", badge_prefix="mt.event."),
            Col("meter", "col.meter", "code", link="href"), Col("start", "mt.col.from", "time"),
            Col("end", "mt.col.to", "time"), Col("hours", "mt.col.hours", "num", 0),
        ], events, empty="mt.no_events"),
        Table("certificates", [
            Col("meter", "col.meter", "code", link="href"), Col("no", "mt.col.certificate"),
            Col("on", "mt.col.calibrated_on"), Col("due", "col.calibration_due"),
            Col("issuer", "mt.col.issuer"),
            Col("result", "mt.col.result", "badge", badge_prefix="mt.result."),
            Col("file", "mt.col.file"),
        ], cert_rows, wide=True, empty="mt.no_certificates"),
    ]  # fmt: skip
    city = city_of(e.region_code)
    context = {
        "e": e, "period": period, "census_day": day, "census": c, "op": op,
        "industry": industry_name(e.industry, t),
        "crumbs": [(t("nav.metering"), "/metering"), (region_name(city, t), f"/regions/{city}"),
                   (e.name, f"/enterprises/{e.id}"), (t("mt.title_enterprise"), None)],
    }  # fmt: skip
    return context, tables


def _section(req: SectionRequest) -> dict[str, Any] | None:
    env = req.env
    day = _census_day(env, req.period)
    c = enterprise_census(env.db, env.me, day, enterprise_ids=[req.subject.id])[0]
    table = Table("metering_census", CENSUS_COLS, census_rows(env, c), wide=True,
                  empty="mt.no_census",
                  note=env.t("mt.section_note", gaps=len(c.gaps)))  # fmt: skip
    return {"tables": [table], "href": f"/metering/enterprises/{req.subject.id}"}


add_section(Section("enterprise", "metering", "mt.section", "sections/_metering.html",
                    _section, 35))  # fmt: skip
