"""One enterprise (or one unit): unit accounts with distances to the levels, meters with their
latest value and online state, daily series, findings and credibility."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kilnwatch.domain import classify
from kilnwatch.errors import KilnwatchError
from kilnwatch.identity import Principal, Role
from kilnwatch.store.models import CredibilityScore, Enterprise, FindingRecord, Meter
from kilnwatch.store.repos.figures import Where, daily_sums
from kilnwatch.web.i18n import Translator
from kilnwatch.web.services.figures import kgce_per_unit
from kilnwatch.web.services.region import ONLINE_WINDOW
from kilnwatch.web.services.seam import Period, UnitAccount, latest_state, unit_accounts

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


def narrowed(principal: Principal, enterprise_id: int) -> Principal:
    """A principal that sees one enterprise (used after the caller's own scope was checked)."""
    return Principal(principal.subject, Role.ENTERPRISE, enterprise_id=enterprise_id)


def accounts_of(
    session: Session, principal: Principal, enterprise_id: int, period: Period
) -> list[UnitAccount]:
    return unit_accounts(session, narrowed(principal, enterprise_id), period)


def levels_of(acc: UnitAccount) -> dict[str, float | None]:
    """The benchmark and baseline values of the unit's class table and the distance to each
    (fraction of the level: positive = worse than the level for lower-is-better fields)."""
    out: dict[str, float | None] = {"benchmark": None, "baseline": None}
    if acc.intensity is None or acc.class_table is None:
        return out
    try:
        c = classify(acc.level_field, acc.intensity, variant=acc.level_variant)
    except KilnwatchError:
        return out
    for level in c.levels:
        if level.table_id == acc.class_table and level.level in out:
            out[level.level] = level.value
    for key in ("benchmark", "baseline"):
        value = out[key]
        out[f"to_{key}"] = (acc.intensity - value) / value if value else None
    return out


def unit_rows(
    accounts: list[UnitAccount], names: dict[int, str], t: Translator
) -> list[dict[str, Any]]:
    from kilnwatch.web.services.labels import account_notes, process_name

    rows = []
    for a in accounts:
        lv = levels_of(a)
        rows.append({
            "unit_id": a.unit_id, "code": a.unit_code, "name": names.get(a.unit_id, a.unit_code),
            "href": f"/units/{a.unit_id}", "process": process_name(a.process, t),
            "capacity": a.capacity, "capacity_unit": a.capacity_unit,
            "production": a.production, "production_unit": a.production_unit,
            "energy_tce": a.energy_tce, "intensity": a.intensity,
            "intensity_unit": a.intensity_unit,
            "class": a.class_ or "none", "benchmark": lv["benchmark"], "baseline": lv["baseline"],
            "to_benchmark": lv.get("to_benchmark"), "to_baseline": lv.get("to_baseline"),
            "gap_tce": a.gap_to_baseline_tce_per_year, "table": a.class_table,
            "notes": account_notes(a.notes, t), "co2_t": a.co2_t,
        })  # fmt: skip
    return rows


def meter_rows(
    session: Session, meters: list[Meter], as_of: datetime | None, t: Translator
) -> list[dict[str, Any]]:
    from kilnwatch.web.services.labels import carrier_name

    state = latest_state(session, [m.id for m in meters])
    newest = max((ts for ts, _ in state.values()), default=None)
    as_of = as_of or newest
    rows = []
    for m in meters:
        ts, value = state.get(m.id, (None, None))
        online = ts is not None and as_of is not None and ts >= as_of - ONLINE_WINDOW
        rows.append({
            "id": m.id, "code": m.code, "href": f"/meters/{m.id}",
            "carrier": carrier_name(m.carrier, t), "level": t(f"level.{m.level}"),
            "measurement": t(f"measurement.{m.measurement}"), "unit": m.unit_of_measure,
            "latest": value, "latest_at": ts, "online": "online" if online else "offline",
            "accuracy": m.accuracy_class, "calibration_due": m.calibration_due_on,
            "unit_id": m.unit_id,
        })  # fmt: skip
    return rows


def daily_chart(
    session: Session, where: Where, period: Period, t: Translator, unit_id: int | None = None
) -> str:
    """Energy (tce), production per product and, with one product, energy per product, by day."""
    zone = period.zone
    energy: dict[str, float] = defaultdict(float)
    products: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    level = "sub_unit" if unit_id is not None else "entry"
    for s in daily_sums(session, where, period.start, period.end, unit_id):
        day = s.day_start.astimezone(zone).strftime("%Y-%m-%d")
        if s.carrier.startswith("product:"):
            products[f"{s.carrier.split(':', 1)[1]} ({s.unit_of_measure})"][day] += s.quantity
        elif s.level == level:
            energy[day] += (kgce_per_unit(s.carrier, s.unit_of_measure) or 0.0) * s.quantity / 1000
    days = sorted(set(energy) | {d for p in products.values() for d in p})
    series: list[dict[str, Any]] = [
        {"name": t("fig.energy_tce") + " (tce)", "data": [energy.get(d) for d in days],
         "kind": "bar"}
    ]  # fmt: skip
    for name, values in products.items():
        series.append({"name": t("chart.production", name=name),
                       "data": [values.get(d) for d in days],
                       "axis": 1})  # fmt: skip
    if len(products) == 1:
        only = next(iter(products.values()))
        series.append({
            "name": t("chart.tce_per_product"), "axis": 1,
            "data": [(energy[d] / only[d]) if only.get(d) else None for d in days],
        })  # fmt: skip
    return json.dumps({"type": "lines", "x": days, "series": series, "zoom": True},
                      ensure_ascii=False).replace("</", "<\\/")  # fmt: skip


def findings_of(session: Session, enterprise_id: int, limit: int = 200) -> list[FindingRecord]:
    stmt = select(FindingRecord).where(FindingRecord.enterprise_id == enterprise_id)
    found = list(session.scalars(stmt.order_by(FindingRecord.period.desc()).limit(limit)))
    found.sort(key=lambda f: (f.status != "open", SEVERITY_ORDER.get(f.severity, 9),
                              -(f.magnitude_tce or 0.0)))  # fmt: skip
    return found


def scores_of(session: Session, enterprise_id: int) -> list[CredibilityScore]:
    stmt = select(CredibilityScore).where(CredibilityScore.enterprise_id == enterprise_id)
    return list(session.scalars(stmt.order_by(CredibilityScore.period.desc())))


def enterprise_meters(session: Session, enterprise: Enterprise) -> list[Meter]:
    stmt = select(Meter).where(Meter.enterprise_id == enterprise.id)
    return list(session.scalars(stmt.order_by(Meter.level, Meter.code)))


def period_window(period: Period) -> tuple[datetime, datetime]:
    return period.start, period.end - timedelta(microseconds=1)
