"""``/quality``: monitoring quality of the user's jurisdiction for a period: online rate and
completeness by city, enterprise and meter, late gateways, dead letters, meters past
calibration, and the queues of readings forwarded to other platforms (``forward/``).

Completeness of a meter = readings received / readings expected, the expected count being the
meter's busiest day's count (its nominal readings per day, e.g. 96 at 15 minutes) times the
days of the period up to the newest data; computed from the daily rollups.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.store.models import Enterprise, Meter
from kilnwatch.store.repos.figures import (
    Where,
    calibration_overdue,
    dead_letter_counts,
    enterprises_in,
    forward_queues,
    gateways_in,
)
from kilnwatch.web.pages._period import picked_period
from kilnwatch.web.pages.common_figures import shared_coverage, shared_meters_seen
from kilnwatch.web.pages.kit import PageEnv, SignedIn, page_router
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.labels import city_of, industry_name, region_name
from kilnwatch.web.services.region import ONLINE_WINDOW, quality_of
from kilnwatch.web.services.seam import Period

router = page_router()
DEAD_LETTER_DAYS = 30
WORST_METERS = 200
GATEWAYS_SHOWN = 200
LATE_GATEWAY = timedelta(hours=2)
COMPLETENESS_COLS = (
    Col("readings", "col.readings", "num"), Col("expected", "col.expected", "num"),
    Col("completeness", "col.completeness", "pct"), Col("meters", "col.meters", "num"),
    Col("online", "col.online_rate", "pct"),
)  # fmt: skip


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


@router.get("/quality")
def quality_page(env: SignedIn) -> Response:
    where = Where(env.me)
    period, picker = picked_period(env, where)
    key = ("quality-page", env.scope_key, env.locale, period.label)
    context, tables = env.cached(key, lambda: _quality(env, where, period))
    return env.render("quality.html", {**context, "picker": picker}, tables)


def _forwarding(env: PageEnv, where: Where) -> Table:
    """The forwarding queue of each upstream target, over the gateways in scope: frames
    waiting, acknowledged and dead, the oldest waiting value and the newest error."""
    rows = [
        {"target": q.target, "address": q.address, "state": "active" if q.active else "paused",
         "pending": q.counts.get("pending", 0), "acked": q.counts.get("acked", 0),
         "dead": q.counts.get("dead", 0), "oldest": q.oldest_pending_at,
         "next": q.next_attempt_at, "error": q.last_error}
        for q in forward_queues(env.db, where)
    ]  # fmt: skip
    cols = [
        Col("target", "col.target", "code"), Col("address", "col.address", "code"),
        Col("state", "col.state", "badge", badge_prefix="forward."),
        Col("pending", "col.frames_pending", "num"), Col("acked", "col.frames_acked", "num"),
        Col("dead", "col.frames_dead", "num"), Col("oldest", "col.oldest_pending", "time"),
        Col("next", "col.next_attempt", "time"), Col("error", "col.last_error"),
    ]  # fmt: skip
    return Table("forwarding", cols, rows, wide=True, empty="table.no_forwarding",
                 note=env.t("quality.forwarding_note"))  # fmt: skip


def _quality(env: PageEnv, where: Where, period: Period) -> tuple[dict[str, Any], list[Table]]:
    t, db = env.t, env.db
    facts = {f.id: f for f in enterprises_in(db, where)}
    total_q, per_q = quality_of([m for m in shared_meters_seen(env) if m.enterprise_id in facts])
    as_of = total_q.as_of or datetime.now(UTC)
    end = min(period.end, as_of + timedelta(microseconds=1))
    days = max((end - period.start).total_seconds() / 86400, 0.0)
    covered = shared_coverage(env, period)  # every meter's; looked up for those in scope
    meters = db.execute(
        select(Meter.id, Meter.code, Meter.enterprise_id).where(
            Meter.enterprise_id.in_(select(Enterprise.id).where(*where.enterprises()))
        )
    ).all()
    by_ent: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    meter_rows: list[dict[str, Any]] = []
    for m in meters:
        c = covered.get(m.id)
        got = float(c.readings) if c else 0.0
        expected = float(c.max_per_day) * days if c else 0.0
        agg = by_ent[m.enterprise_id]
        agg[0] += got
        agg[1] += expected
        agg[2] += 1
        meter_rows.append({"code": m.code, "href": f"/meters/{m.id}",
                           "enterprise": facts[m.enterprise_id].name, "readings": got,
                           "expected": expected, "completeness": _ratio(got, expected) if c
                           else 0.0, "days": c.days if c else 0})  # fmt: skip
    meter_rows.sort(key=lambda r: r["completeness"] if r["completeness"] is not None else 2.0)
    ent_rows: list[dict[str, Any]] = []
    by_city: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    for eid, (got, expected, n) in by_ent.items():
        f = facts[eid]
        q = per_q.get(eid)
        ent_rows.append({"name": f.name, "href": f"/enterprises/{eid}",
                         "city": region_name(city_of(f.region_code), t),
                         "industry": industry_name(f.industry, t), "readings": got,
                         "expected": expected, "completeness": _ratio(got, expected),
                         "meters": n, "online": q.online_fraction if q else None})  # fmt: skip
        city = by_city[city_of(f.region_code)]
        for i, v in enumerate((got, expected, n, q.online if q else 0, q.meters if q else 0)):
            city[i] += v
    ent_rows.sort(key=lambda r: r["completeness"] if r["completeness"] is not None else 2.0)
    city_rows = [
        {"name": region_name(code, t), "href": f"/regions/{code}", "readings": a[0],
         "expected": a[1], "completeness": _ratio(a[0], a[1]), "meters": a[2],
         "online": _ratio(a[3], a[4])}
        for code, a in sorted(by_city.items())
    ]  # fmt: skip
    gateways = []
    for _gid, code, eid, protocol, at in gateways_in(db, where):
        late = at is None or at < as_of - LATE_GATEWAY
        gateways.append({"code": code, "enterprise": facts[eid].name if eid in facts else eid,
                         "href": f"/enterprises/{eid}", "protocol": protocol, "last": at,
                         "state": "late" if late else "ok"})  # fmt: skip
    gateways.sort(
        key=lambda g: (g["state"] != "late", g["last"] or datetime.min.replace(tzinfo=UTC))
    )
    since = as_of - timedelta(days=DEAD_LETTER_DAYS)
    dead = [{"reason": t(f"deadletter.{r}") if t.has(f"deadletter.{r}") else r, "code": r,
             "count": n} for r, n in dead_letter_counts(db, where, since)]  # fmt: skip
    overdue = [{"code": m.code, "href": f"/meters/{m.id}",
                "enterprise": facts[m.enterprise_id].name,
                "due": m.calibration_due_on, "accuracy": m.accuracy_class}
               for m in calibration_overdue(db, where, as_of.date())]  # fmt: skip
    tables = [
        Table("by_city", [Col("name", "col.city", link="href"), *COMPLETENESS_COLS], city_rows),
        Table(
            "by_enterprise",
            [
                Col("name", "col.enterprise", link="href"),
                Col("city", "col.city"),
                Col("industry", "col.industry"),
                *COMPLETENESS_COLS,
            ],
            ent_rows,
            wide=True,
        ),  # fmt: skip
        Table(
            "by_meter",
            [
                Col("code", "col.meter", "code", link="href"),
                Col("enterprise", "col.enterprise"),
                Col("days", "col.days", "num"),
                *COMPLETENESS_COLS[:3],
            ],
            meter_rows[:WORST_METERS],
            wide=True,
            note=t("quality.worst", n=WORST_METERS),
        ),  # fmt: skip
        Table(
            "gateways",
            [
                Col("code", "col.gateway", "code"),
                Col("enterprise", "col.enterprise", link="href"),
                Col("protocol", "col.protocol"),
                Col("last", "col.last_delivery", "time"),
                Col("state", "col.state", "badge", badge_prefix="gateway."),
            ],
            gateways[:GATEWAYS_SHOWN],
            empty="table.no_gateways",
            note=t(
                "quality.gateways_shown", n=min(GATEWAYS_SHOWN, len(gateways)), total=len(gateways)
            ),  # fmt: skip
        ),  # fmt: skip
        Table(
            "dead_letters",
            [
                Col("reason", "col.reason"),
                Col("code", "col.code", "code"),
                Col("count", "col.count", "num"),
            ],
            dead,
            empty="table.no_dead_letters",
        ),  # fmt: skip
        Table(
            "calibration",
            [
                Col("code", "col.meter", "code", link="href"),
                Col("enterprise", "col.enterprise"),
                Col("due", "col.calibration_due"),
                Col("accuracy", "col.accuracy"),
            ],
            overdue,
            empty="table.no_overdue",
        ),  # fmt: skip
    ]
    tables.append(_forwarding(env, where))
    got = sum(a[0] for a in by_ent.values())
    expected = sum(a[1] for a in by_ent.values())
    context: dict[str, Any] = {
        "period": period, "quality": total_q, "as_of": as_of,
        "completeness": _ratio(got, expected), "late": sum(g["state"] == "late" for g in gateways),
        "dead_total": sum(d["count"] for d in dead), "overdue": len(overdue),
        "online_window_h": ONLINE_WINDOW.total_seconds() / 3600,
        "dead_days": DEAD_LETTER_DAYS, "crumbs": [(t("nav.quality"), None)],
    }  # fmt: skip
    return context, tables
