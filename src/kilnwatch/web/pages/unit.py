"""``/units/{id}``: a production unit's facts, class history with distances to the levels, its
daily chart and its meters; later capabilities add sections with ``add_section("unit", ...)``."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import Form, Path
from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.domain.obsolete import check_equipment, format_equipment, parse_equipment
from kilnwatch.errors import InputError
from kilnwatch.programme.catalogue import unit_matches
from kilnwatch.programme.exit_grounds import exit_ground_records, unit_grounds
from kilnwatch.store.models import Meter, ProductionUnit
from kilnwatch.store.repos.figures import Where
from kilnwatch.store.repos.registry import get_owned
from kilnwatch.web.pages._period import picked_period
from kilnwatch.web.pages.enterprise import METER_COLS, UNIT_COLS, cached_sections
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.programme import GROUND_COLS
from kilnwatch.web.pages.registry import Section, SectionRequest, add_section
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.enterprise import daily_chart, meter_rows, unit_rows
from kilnwatch.web.services.labels import city_of, process_name, region_name
from kilnwatch.web.services.periods import trailing_year
from kilnwatch.web.services.seam import meter_series, parse_period, unit_account

router = page_router()
HISTORY_MONTHS = 12


def _history(req: SectionRequest) -> dict[str, Any]:
    env, unit, period = req.env, req.subject, req.period
    key = ("unit-history", env.locale, unit.id, period.label)
    rows = env.cached(key, lambda: _history_rows(req))
    skip = ("code", "name", "process", "capacity_unit")
    cols = [Col("period", "col.period"), *[c for c in UNIT_COLS if c.key not in skip]]
    return {"tables": [Table("history", cols, rows, wide=True, empty="table.no_history")]}


def _history_rows(req: SectionRequest) -> list[dict[str, Any]]:
    """The unit's account for each of the twelve months ending with the period, from one
    query of its meters' monthly rollups."""
    env, unit, period = req.env, req.subject, req.period
    meters = list(env.db.scalars(select(Meter).where(Meter.unit_id == unit.id)))
    months = trailing_year(period)
    series = meter_series(env.db, [x.id for x in meters], "month", months.start, months.end)
    by_month: dict[str, list[Any]] = defaultdict(list)
    zone = months.zone
    for point in series:
        by_month[point.period_start.astimezone(zone).strftime("%Y-%m")].append(point)
    rows = []
    for label in reversed(months.months()):
        points = by_month.get(label, [])
        totals = {p.meter_id: p.sum for p in points}
        counts = {p.meter_id: p.count for p in points}
        month = parse_period(label, months.zone)
        account = unit_account(unit, meters, totals, counts, month)
        for row in unit_rows([account], {unit.id: unit.name}, env.t):
            if row["energy_tce"]:
                rows.append({**row, "period": label})
    return rows


def _unit_chart(req: SectionRequest) -> dict[str, Any]:
    env, unit = req.env, req.subject
    where = Where(env.me, enterprise_id=unit.enterprise_id)
    return {"chart_json": daily_chart(env.db, where, req.period, env.t, unit_id=unit.id),
            "tables": []}  # fmt: skip


def _unit_meters(req: SectionRequest) -> dict[str, Any]:
    env, unit = req.env, req.subject
    meters = list(
        env.db.scalars(select(Meter).where(Meter.unit_id == unit.id).order_by(Meter.code))
    )
    return {"tables": [Table("meters", METER_COLS, meter_rows(env.db, meters, None, env.t),
                             wide=True)]}  # fmt: skip


add_section(Section("unit", "chart", "section.daily", "sections/_chart.html", _unit_chart, 10))
add_section(Section("unit", "history", "section.history", "sections/_tables.html", _history, 20))
add_section(Section("unit", "meters", "section.meters", "sections/_tables.html", _unit_meters, 30))


def _exit_table(env: PageEnv, unit: ProductionUnit) -> Table:
    """The unit's obsolete-equipment matches, rules it could not be judged on and recorded
    exit grounds, computed on each request (edits must show at once; the energy ground is the
    class of the history table: worse than GB grade 3)."""
    matches, unjudged = unit_matches(unit, unit.enterprise, env.settings.province)
    records = exit_ground_records(env.db, env.me, unit.id)
    rows = [
        {"kind": g.kind, "finding": g.finding, "standard": g.standard, "basis": g.basis,
         "evidence": g.evidence, "by": g.determined_by or "", "on": g.determined_on or "",
         "deadline": g.deadline_on or ""}
        for g in unit_grounds(unit.id, None, matches, records)
    ] + [
        {"kind": "", "finding": "", "standard": x.rule_id, "basis": "rule", "by": "", "on": "",
         "evidence": env.t("pg.unjudged") + ": " + ", ".join(x.missing), "deadline": ""}
        for x in unjudged
    ]  # fmt: skip
    cols = [c for c in GROUND_COLS if c.key != "unit"]
    return Table("exit_grounds", cols, rows, wide=True, empty="pg.none")


@router.get("/units/{unit_id}")
def unit_page(env: SignedIn, unit_id: int = Path(ge=1, le=2**31 - 1)) -> Response:
    return _unit_page(env, unit_id)


@router.post("/units/{unit_id}/equipment")
def unit_equipment(
    env: SignedIn,
    unit_id: int = Path(ge=1, le=2**31 - 1),
    equipment: Annotated[str, Form()] = "",
) -> Response:
    """Replace the unit's equipment attributes (``name=value;…``; empty clears them), checked
    for its process; registry writers only (as ``PATCH /api/v1/units/{id}``)."""
    env.require(env.me.may_write_registry, "registry writers only")
    unit: ProductionUnit = get_owned(env.db, env.me, ProductionUnit, unit_id)
    try:
        unit.equipment = check_equipment(unit.process, parse_equipment(equipment)) or None
    except InputError as exc:
        env.db.rollback()
        return _unit_page(env, unit_id, error=exc.message, status=422, draft=equipment)
    return done(env, f"/units/{unit_id}?saved=1")


def _unit_page(
    env: PageEnv,
    unit_id: int,
    error: str | None = None,
    status: int = 200,
    draft: str | None = None,
) -> Response:
    unit: ProductionUnit = get_owned(env.db, env.me, ProductionUnit, unit_id)
    e, t = unit.enterprise, env.t
    period, picker = picked_period(env, Where(env.me, enterprise_id=e.id))
    sections, tables = cached_sections(env, "unit", unit, period)
    city = city_of(e.region_code)
    crumbs: list[tuple[str, str | None]] = [
        (region_name("370000", t), "/"), (region_name(city, t), f"/regions/{city}"),
        (e.name, f"/enterprises/{e.id}"), (f"{unit.code} {unit.name}", None),
    ]  # fmt: skip
    equipment = format_equipment(unit.equipment)
    context = {"unit": unit, "e": e, "process": process_name(unit.process, t), "picker": picker,
               "period": period, "sections": sections, "crumbs": crumbs,
               "equipment": equipment, "equipment_draft": equipment if draft is None else draft,
               "may_edit": env.me.may_write_registry, "error": error,
               "saved": env.request.query_params.get("saved")}  # fmt: skip
    return env.render("unit.html", context, [*tables, _exit_table(env, unit)], status_code=status)
