"""The period a page shows, from ``?period=`` (any form of
:func:`~kilnwatch.domain.periods.parse_period`) or from the picker's ``kind`` and ``month``."""

from __future__ import annotations

from typing import Any

from kilnwatch.errors import InputError
from kilnwatch.store.repos.figures import Where
from kilnwatch.web.pages.kit import PageEnv
from kilnwatch.web.services.periods import choices, last_month, period_of_kind, picker_kind
from kilnwatch.web.services.region import default_month
from kilnwatch.web.services.seam import Period, parse_period


def picked_period(env: PageEnv, where: Where) -> tuple[Period, dict[str, Any]]:
    """The period asked for (default: the newest month with data) and the picker's context."""
    query = env.request.query_params
    zone = env.settings.zone
    newest = env.cached(("newest", where), lambda: default_month(env.db, where, env.tz))
    kind = query.get("kind") or "month"
    if query.get("period"):
        period = parse_period(query["period"], zone)
    elif query.get("month"):
        try:
            y, m = (int(x) for x in query["month"].split("-"))
            month = (y, m) if 1 <= m <= 12 else None
        except ValueError:
            month = None
        if month is None:
            raise InputError("month must be YYYY-MM", field="month")
        period = period_of_kind(kind, month, zone)
    else:
        period = period_of_kind(kind, newest, zone)
    y, m = last_month(period)
    picker = {
        "period": period,
        "kind": picker_kind(period),
        "choices": choices(newest, period),
        "month": f"{y}-{m:02d}",
    }
    return period, picker
