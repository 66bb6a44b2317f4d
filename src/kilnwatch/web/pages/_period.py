"""The period a page shows, from ``?period=`` or from the picker's ``kind`` and ``month``."""

from __future__ import annotations

from typing import Any

from kilnwatch.errors import InputError
from kilnwatch.store.repos.figures import Where
from kilnwatch.web.pages.kit import PageEnv
from kilnwatch.web.services.periods import PagePeriod, choices, parse_page_period
from kilnwatch.web.services.region import default_month, period_for


def picked_period(env: PageEnv, where: Where) -> tuple[PagePeriod, dict[str, Any]]:
    query = env.request.query_params
    tz = env.tz
    newest = env.cached(("newest", where), lambda: default_month(env.db, where, tz))
    if query.get("period"):
        period = parse_page_period(query["period"], tz)
    elif query.get("month"):
        try:
            y, m = (int(x) for x in query["month"].split("-"))
        except ValueError as exc:
            raise InputError("month must be YYYY-MM", field="month") from exc
        period = period_for(query.get("kind"), (y, m), tz)
    else:
        period = period_for(query.get("kind"), newest, tz)
    picker = {
        "period": period,
        "choices": choices(newest, period),
        "month": f"{period.last[0]}-{period.last[1]:02d}",
    }
    return period, picker
