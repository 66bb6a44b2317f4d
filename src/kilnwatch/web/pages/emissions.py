"""``/emissions``: pollutant emissions and water of the user's jurisdiction for a period
(issue 21, docs/emissions.md): quantities of SO2, NOx and particulate matter by city and
enterprise (``?city=3703`` narrows to a city), an enterprise's stacks
(``/emissions/enterprises/{id}``) and one stack (``/emissions/stacks/{unit_id}``) with the
valid-data share, the binding limit and the exceedance episodes, and water withdrawal against
the quotas. Every figure comes from :mod:`kilnwatch.emissions` (the API's service).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.emissions.annual import annual_permit_status
from kilnwatch.emissions.service import EmissionTotal, Scope, emissions_scope
from kilnwatch.emissions.stacks import KG_PER_T, StackAccount
from kilnwatch.emissions.wastewater import wastewater_accounts
from kilnwatch.emissions.water import water_accounts, water_source_names
from kilnwatch.errors import NotFoundError
from kilnwatch.reference.emissions import POLLUTANTS
from kilnwatch.store.models import Enterprise, ProductionUnit
from kilnwatch.store.repos.figures import Where
from kilnwatch.web.pages._period import picked_period
from kilnwatch.web.pages.kit import PageEnv, SignedIn, page_router
from kilnwatch.web.pages.registry import NavItem, Section, SectionRequest, add_nav, add_section
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.seam import Period

router = page_router()
add_nav(NavItem("emissions", "nav.emissions", "/emissions", order=45))

AMOUNT_COLS = tuple(Col(f"{p}_t", f"emissions.{p}_t", "num", digits=3) for p in POLLUTANTS)
FIGURE_COLS = (
    *AMOUNT_COLS,
    Col("valid", "emissions.valid_share", "pct"),
    Col("exceed_h", "emissions.exceedance_hours", "num"),
    Col("exceed_d", "emissions.exceedance_days", "num"),
)


def _total_row(t: EmissionTotal, href: str | None) -> dict[str, Any]:
    share = t.valid_share_pct
    return {
        "name": t.name, "href": href, **{f"{p}_t": t.amount_t[p] for p in POLLUTANTS},
        "valid": None if share is None else share / 100.0, "exceed_h": t.exceedance_hours,
        "exceed_d": t.exceedance_days,
    }  # fmt: skip


def _episodes(env: PageEnv, scope: Scope, accounts: list[StackAccount]) -> Table:
    rows = []
    for a in accounts:
        for p, acc in a.pollutants.items():
            for e in acc.episodes:
                rows.append(
                    {
                        "enterprise": scope.refs[a.enterprise_id].name,
                        "stack": a.unit_code, "href": f"/emissions/stacks/{a.unit_id}",
                        "pollutant": env.t(f"emissions.{p}"),
                        "start": datetime.fromtimestamp(e.start_s, UTC),
                        "end": datetime.fromtimestamp(e.end_s, UTC), "hours": e.n_hours,
                        "peak": e.peak_mg_m3,
                        "limit": acc.limit.limit_mg_m3 if acc.limit else None,
                        "basis": f"{acc.limit.standard} ({acc.limit.ref})" if acc.limit else "",
                    }
                )  # fmt: skip
    cols = [
        Col("enterprise", "col.enterprise"), Col("stack", "emissions.stack", "code", link="href"),
        Col("pollutant", "emissions.pollutant"), Col("start", "emissions.start", "time"),
        Col("end", "emissions.end", "time"), Col("hours", "emissions.hours", "num"),
        Col("peak", "emissions.peak", "num", digits=1, unit="mg/m3"),
        Col("limit", "emissions.limit", "num", digits=1, unit="mg/m3"),
        Col("basis", "emissions.limit_basis"),
    ]  # fmt: skip
    return Table("episodes", cols, rows, wide=True, empty="emissions.no_exceedance")


def _stacks(env: PageEnv, scope: Scope, accounts: list[StackAccount]) -> Table:
    rows = []
    for a in accounts:
        for p, acc in a.pollutants.items():
            lim = acc.limit
            rows.append(
                {
                    "enterprise": scope.refs[a.enterprise_id].name, "stack": a.unit_code,
                    "href": f"/emissions/stacks/{a.unit_id}", "pollutant": env.t(f"emissions.{p}"),
                    "amount": acc.amount_kg / KG_PER_T, "substituted": acc.substituted_hours,
                    "valid_h": acc.valid_hours, "invalid_h": acc.invalid_hours,
                    "stopped_h": acc.stopped_hours,
                    "capture": None if acc.capture_pct is None else acc.capture_pct / 100.0,
                    "limit": lim.limit_mg_m3 if lim else None,
                    "o2": lim.o2_ref_pct if lim else None,
                    "basis": f"{lim.standard} ({lim.ref})" if lim else "",
                    "max": acc.max_corrected_mg_m3, "exceed_h": acc.exceedance_hours,
                    "device": None if acc.device_kg is None else acc.device_kg / KG_PER_T,
                    "gap": acc.device_gap_fraction,
                }
            )  # fmt: skip
    cols = [
        Col("enterprise", "col.enterprise"), Col("stack", "emissions.stack", "code", link="href"),
        Col("pollutant", "emissions.pollutant"),
        Col("amount", "emissions.amount_t", "num", digits=3, unit="t"),
        Col("valid_h", "emissions.valid_hours", "num"),
        Col("invalid_h", "emissions.invalid_hours", "num"),
        Col("stopped_h", "emissions.stopped_hours", "num"),
        Col("substituted", "emissions.substituted_hours", "num"),
        Col("capture", "emissions.valid_share", "pct"),
        Col("limit", "emissions.limit", "num", digits=1, unit="mg/m3"),
        Col("o2", "emissions.o2_ref", "num", digits=1, unit="%"),
        Col("basis", "emissions.limit_basis"),
        Col("max", "emissions.max_hourly", "num", digits=1, unit="mg/m3"),
        Col("exceed_h", "emissions.exceedance_hours", "num"),
        Col("device", "emissions.device_t", "num", digits=3, unit="t"),
        Col("gap", "emissions.device_gap", "change"),
    ]  # fmt: skip
    return Table("stacks", cols, rows, wide=True, empty="emissions.no_stacks")


def _yes_no(env: PageEnv, value: bool | None) -> str:
    return "" if value is None else env.t("yesno.yes" if value else "yesno.no")


def _water(env: PageEnv, period: Period, uscc: str | None, city: str | None) -> Table:
    rows = [
        {
            "enterprise": w.enterprise_name, "unit": w.unit_code or env.t("emissions.entry"),
            "m3": w.withdrawal_m3, "specific": w.specific_per_quota_unit,
            "quota": w.quota_general, "quota_unit": w.quota_unit or "",
            "above": _yes_no(env, w.over_quota),
        }
        for w in water_accounts(env.db, env.me, period, city=city, uscc=uscc)
    ]  # fmt: skip
    cols = [
        Col("enterprise", "col.enterprise"), Col("unit", "col.unit"),
        Col("m3", "emissions.withdrawal", "num", digits=0, unit="m3"),
        Col("specific", "emissions.water_per_product", "num", digits=3),
        Col("quota", "emissions.water_quota", "num", digits=3),
        Col("quota_unit", "emissions.quota_unit"), Col("above", "emissions.above_quota"),
    ]  # fmt: skip
    return Table("water", cols, rows, wide=True, empty="emissions.no_water")


def _water_sources(env: PageEnv, period: Period, uscc: str) -> Table:
    """Withdrawal by source of the enterprise (entry meters) and its units; a meter without a
    source in the registry counts as unspecified."""
    side = 0 if env.locale == "zh-CN" else 1
    names = {k: v.split(" / ")[side] for k, v in water_source_names().items()}
    rows = [
        {"unit": w.unit_code or env.t("emissions.entry"), "source": names[source], "m3": m3}
        for w in water_accounts(env.db, env.me, period, uscc=uscc)
        for source, m3 in w.by_source.items()
    ]  # fmt: skip
    cols = [
        Col("unit", "col.unit"), Col("source", "emissions.water_source"),
        Col("m3", "emissions.withdrawal", "num", digits=0, unit="m3"),
    ]  # fmt: skip
    return Table("water_sources", cols, rows, empty="emissions.no_water")


def _permits(env: PageEnv, period: Period, uscc: str) -> Table:
    rows = [
        {"pollutant": r.pollutant, "to": r.last_day.isoformat(), "permitted": r.permitted_t,
         "cumulative": r.cumulative_t, "share": r.share, "projected": r.projected_t,
         "code": r.code.removeprefix("emissions.permit.")}
        for r in annual_permit_status(env.db, env.me, period, uscc=uscc)
    ]  # fmt: skip
    cols = [
        Col("pollutant", "emissions.pollutant"), Col("to", "emissions.permit_to"),
        Col("permitted", "emissions.permit_annual_t", "num", digits=3, unit="t"),
        Col("cumulative", "emissions.permit_cumulative_t", "num", digits=3, unit="t"),
        Col("share", "emissions.permit_share", "pct"),
        Col("projected", "emissions.permit_projected_t", "num", digits=3, unit="t"),
        Col("code", "emissions.permit_status", "badge", badge_prefix="emissions.permit."),
    ]  # fmt: skip
    return Table("permits", cols, rows, empty="emissions.no_permits")


def _wastewater(env: PageEnv, period: Period, uscc: str) -> Table:
    rows = [
        {"outfall": r.unit_code, "pollutant": env.t(f"emissions.water_pollutant.{r.pollutant}"),
         "kg": r.amount_kg, "valid": r.valid_hours, "invalid": r.invalid_hours,
         "m3": r.flow_m3, "mean": r.mean_mg_l}
        for r in wastewater_accounts(env.db, env.me, period, uscc=uscc)
    ]  # fmt: skip
    cols = [
        Col("outfall", "emissions.outfall", "code"), Col("pollutant", "emissions.pollutant"),
        Col("kg", "emissions.amount_kg", "num", digits=1, unit="kg"),
        Col("valid", "emissions.valid_hours", "num"),
        Col("invalid", "emissions.invalid_hours", "num"),
        Col("m3", "emissions.wastewater_m3", "num", digits=0, unit="m3"),
        Col("mean", "emissions.mean_mg_l", "num", digits=2, unit="mg/L"),
    ]  # fmt: skip
    return Table("wastewater", cols, rows, empty="emissions.no_outfalls")


def _tiles(accounts: list[StackAccount]) -> dict[str, Any]:
    total = EmissionTotal("", "")
    for a in accounts:
        total.add(a)
    share = total.valid_share_pct
    return {
        "amounts": total.amount_t,
        "valid": None if share is None else share / 100.0,
        "exceed_h": total.exceedance_hours,
    }


def _render(
    env: PageEnv, title: str, picker: dict[str, Any], accounts: list[StackAccount],
    tables: list[Table], crumbs: list[tuple[str, str | None]],
) -> Response:  # fmt: skip
    context = {
        "title": title, "picker": picker, "crumbs": crumbs,
        "tiles": _tiles(accounts), "pollutants": POLLUTANTS,
        "order": [tb.id for tb in tables],
    }  # fmt: skip
    return env.render("emissions.html", context, tables)


@router.get("/emissions")
def emissions_page(env: SignedIn) -> Response:
    where = Where(env.me)
    period, picker = picked_period(env, where)
    city = env.request.query_params.get("city") or None
    scope = emissions_scope(env.db, env.me, period, city=city)
    by_city = [
        _total_row(t, f"/emissions?city={t.key}&period={period.label}")
        for t in scope.totals(env.db, "city")
    ]
    ids = {r.uscc: i for i, r in scope.refs.items()}
    by_ent = [
        _total_row(t, f"/emissions/enterprises/{ids[t.key]}?period={period.label}")
        for t in scope.totals(env.db, "enterprise")
    ]
    tables = [
        Table("by_city", [Col("name", "col.city", link="href"), *FIGURE_COLS], by_city),
        Table("by_enterprise", [Col("name", "col.enterprise", link="href"), *FIGURE_COLS],
              by_ent, wide=True, empty="emissions.no_stacks"),
        _episodes(env, scope, scope.accounts),
        _water(env, period, None, city),
    ]  # fmt: skip
    title = env.t("emissions.title")
    return _render(env, title, picker, scope.accounts, tables, [(title, None)])


@router.get("/emissions/enterprises/{enterprise_id}")
def enterprise_emissions(enterprise_id: int, env: SignedIn) -> Response:
    uscc = env.db.scalar(select(Enterprise.uscc).where(Enterprise.id == enterprise_id))
    period, picker = picked_period(env, Where(env.me))
    scope = emissions_scope(env.db, env.me, period, uscc=uscc or "-")
    if uscc is None or enterprise_id not in scope.refs:
        raise NotFoundError(f"enterprise {enterprise_id} not found")
    name = scope.refs[enterprise_id].name
    tables = [
        _stacks(env, scope, scope.accounts), _episodes(env, scope, scope.accounts),
        _permits(env, period, uscc), _wastewater(env, period, uscc),
        _water(env, period, uscc, None), _water_sources(env, period, uscc),
    ]  # fmt: skip
    crumbs = [(env.t("emissions.title"), "/emissions"), (name, None)]
    return _render(env, name, picker, scope.accounts, tables, crumbs)


@router.get("/emissions/stacks/{unit_id}")
def stack_emissions(unit_id: int, env: SignedIn) -> Response:
    row = env.db.execute(
        select(ProductionUnit.code, Enterprise.id, Enterprise.uscc)
        .join(Enterprise, Enterprise.id == ProductionUnit.enterprise_id)
        .where(ProductionUnit.id == unit_id)
    ).first()
    period, picker = picked_period(env, Where(env.me))
    scope = emissions_scope(env.db, env.me, period, uscc=row[2] if row else "-")
    accounts = [a for a in scope.accounts if a.unit_id == unit_id]
    if row is None or not accounts:
        raise NotFoundError(f"stack {unit_id} not found")
    ent = scope.refs[row[1]]
    tables = [_stacks(env, scope, accounts), _episodes(env, scope, accounts)]
    crumbs = [
        (env.t("emissions.title"), "/emissions"),
        (ent.name, f"/emissions/enterprises/{ent.id}"),
        (row[0], None),
    ]
    return _render(env, f"{ent.name} {row[0]}", picker, accounts, tables, crumbs)


def _enterprise_section(req: SectionRequest) -> dict[str, Any] | None:
    """The enterprise page's emissions block: its stacks in the page's period (hidden when it
    has no monitored stack); the full view is ``/emissions/enterprises/{id}``."""
    env, e = req.env, req.subject
    key = ("emissions-section", env.scope_key, env.locale, e.id, req.period.label)

    def load() -> Table | None:
        scope = emissions_scope(env.db, env.me, req.period, uscc=e.uscc)
        return _stacks(env, scope, scope.accounts) if scope.accounts else None

    table = env.cached(key, load)
    return None if table is None else {"tables": [table]}


add_section(
    Section("enterprise", "emissions", "emissions.title", "sections/_tables.html",
            _enterprise_section, order=70)
)  # fmt: skip
