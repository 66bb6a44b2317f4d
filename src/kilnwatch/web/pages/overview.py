"""The overview page: province totals, enterprises by city and by industry (aggregates only)."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch import __version__
from kilnwatch.accounting.groups import group_accounts
from kilnwatch.accounting.units import unit_accounts
from kilnwatch.domain.periods import Period
from kilnwatch.identity import Principal, Role
from kilnwatch.reference.registry import load_industries
from kilnwatch.store.models import Enterprise, Meter, ProductionUnit, Reading, Region, Rollup
from kilnwatch.web.deps import SessionDep, SettingsDep
from kilnwatch.web.i18n import pick_locale, translator

router = APIRouter(include_in_schema=False)

OVERVIEW = Principal(subject="overview-page", role=Role.ADMIN)
"""The public page shows province aggregates only, never an enterprise's own figures."""


def overview_data(session: Session, locale: str, zone: tzinfo) -> dict[str, Any]:
    """Province totals and counts by city and industry (no enterprise-level data)."""
    totals = {
        "enterprises": session.scalar(select(func.count(Enterprise.id))) or 0,
        "units": session.scalar(select(func.count(ProductionUnit.id))) or 0,
        "meters": session.scalar(select(func.count(Meter.id))) or 0,
        "readings": session.scalar(select(func.count()).select_from(Reading)) or 0,
    }
    city = func.substr(Enterprise.region_code, 1, 4)
    enterprises: dict[str, int] = dict(
        session.execute(select(city, func.count(Enterprise.id)).group_by(city)).all()
    )
    units_stmt = select(city, func.count(ProductionUnit.id)).join(ProductionUnit.enterprise)
    units: dict[str, int] = dict(session.execute(units_stmt.group_by(city)).all())
    cities = session.scalars(select(Region).where(Region.level == "city").order_by(Region.code))
    name = "name_en" if locale == "en" else "name_zh"
    by_city = [
        {
            "name": getattr(c, name) or c.name_zh,
            "enterprises": enterprises.get(c.code[:4], 0),
            "units": units.get(c.code[:4], 0),
        }
        for c in cities
        if c.code[:4] in enterprises
    ]
    industries = load_industries()
    ind_stmt = select(Enterprise.industry, func.count(Enterprise.id)).group_by(Enterprise.industry)
    by_industry = [
        {"name": getattr(industries[k], name) if k in industries else k, "enterprises": n}
        for k, n in session.execute(ind_stmt)
    ]
    return {
        "totals": totals,
        "by_city": by_city,
        "by_industry": by_industry,
        **efficiency_summary(session, locale, zone),
    }


def efficiency_summary(session: Session, locale: str, zone: tzinfo) -> dict[str, Any]:
    """Classes by industry for the newest month (in ``zone``) with rollups (aggregates only)."""
    # the newest month with metered production: a month holding only a trailing instant
    # reading (e.g. CEMS at 00:00 on the 1st) has nothing to classify
    newest = session.scalar(
        select(func.max(Rollup.period_start))
        .join(Meter, Meter.id == Rollup.meter_id)
        .where(Rollup.grain == "month", Meter.carrier.startswith("product:"))
    )
    if newest is None:
        return {"efficiency": [], "efficiency_period": None}
    month = Period.containing("month", newest.astimezone(zone).date(), zone)
    accounts = unit_accounts(session, OVERVIEW, month)
    groups = [
        g for g in group_accounts(session, accounts, "industry", locale) if g.units_classified
    ]
    return {"efficiency": groups, "efficiency_period": month.label}


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, session: SessionDep, settings: SettingsDep, lang: str | None = None
) -> HTMLResponse:
    locale = pick_locale(lang, settings.default_locale)
    context = {"locale": locale, "t": translator(locale), "version": __version__}
    context.update(overview_data(session, locale, settings.zone))
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(request, "overview.html", context)
    return response
