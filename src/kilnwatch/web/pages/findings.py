"""The findings work queue (``/findings``), one finding with its evidence and history
(``/findings/{id}``), actions with a required comment, and the source rows evidence points at
(``/sources/{kind}/{key}``)."""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any

from fastapi import Form, Path, Query
from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.identity import Role
from kilnwatch.store.models import (
    Enterprise,
    GridElectricity,
    LogisticsWaybill,
    MarketPrice,
    Meter,
    StatisticalReport,
    TaxInvoice,
    User,
)
from kilnwatch.store.repos.finding_actions import ACTIONS, act_on_finding, assignees_of, events_of
from kilnwatch.store.repos.finding_queue import SORTS, QueueFilter, facets, queue
from kilnwatch.store.repos.findings import get_finding
from kilnwatch.store.repos.scope import enterprise_scope, region_in_scope
from kilnwatch.supervise.access import check_finding_writer
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router, refused
from kilnwatch.web.pages.tables import Col, Table, history_cols, history_row
from kilnwatch.web.services.findings_text import (
    evidence_label,
    evidence_rows,
    finding_message,
    rule_title,
)
from kilnwatch.web.services.labels import cities, city_of, industry_name, region_name

router = page_router()
PAGE_SIZE = 50
SOURCE_TABLES: dict[str, Any] = {
    "statistical_reports": StatisticalReport, "tax_invoices": TaxInvoice,
    "logistics_waybills": LogisticsWaybill, "grid_electricity": GridElectricity,
    "market_prices": MarketPrice,
}  # fmt: skip
SOURCE_NUMBERS = {"invoices": "tax_invoices", "waybill_nos": "logistics_waybills"}
QUEUE_COLS = (
    Col("id", "col.id", "num", link="href"), Col("title", "col.rule", link="href"),
    Col("enterprise", "col.enterprise", link="enterprise_href"), Col("city", "col.city"),
    Col("industry", "col.industry"), Col("message", "col.message"), Col("period", "col.period"),
    Col("severity", "col.severity", "badge", badge_prefix="severity."),
    Col("status", "col.status", "badge", badge_prefix="status."),
    Col("tce", "col.magnitude_tce", "num", 0, unit="tce"), Col("assignee", "col.assignee"),
    Col("first_seen", "col.first_seen", "time"),
)  # fmt: skip


def may_act(env: PageEnv) -> bool:
    """Whether the page offers the finding's actions (auditors and enterprises read)."""
    return env.principal is not None and env.principal.role not in (Role.ENTERPRISE, Role.AUDITOR)


@router.get("/findings")
def findings_queue(
    env: SignedIn,
    city: str | None = None,
    industry: str | None = None,
    rule: str | None = None,
    severity: Annotated[str | None, Query(pattern="^(|info|low|medium|high)$")] = None,
    status: Annotated[str | None, Query(pattern="^(|open|confirmed|dismissed|closed)$")] = "open",
    period: Annotated[str | None, Query(pattern=r"^(|\d{4}-\d{2})$")] = None,
    sort: str = "severity",
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    enterprise: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    t, me = env.t, env.me
    if city and not (me.sees_everything or region_in_scope(me, city)):
        raise NotFoundError(f"region {city} not found")
    f = QueueFilter(city or None, industry or None, rule or None, severity or None,
                    status or None, period or None, enterprise)  # fmt: skip
    limit = PAGE_SIZE if env.request.query_params.get("format") != "csv" else 10_000
    rows, total = queue(env.db, me, f, sort, offset, limit)
    assignees = assignees_of(env.db, [r.id for r, _ in rows])
    items = [
        {"id": r.id, "href": f"/findings/{r.id}", "title": rule_title(r.rule_code, t),
         "enterprise": e.name, "enterprise_href": f"/enterprises/{e.id}",
         "city": region_name(city_of(e.region_code), t), "industry": industry_name(e.industry, t),
         "message": finding_message(r.rule_code, r.evidence, r.message, t, env.tz),
         "period": r.period, "severity": r.severity, "status": r.status, "tce": r.magnitude_tce,
         "assignee": assignees.get(r.id), "first_seen": r.first_seen_at, "rule_code": r.rule_code}
        for r, e in rows
    ]  # fmt: skip
    menus = env.cached(("facets", env.scope_key), lambda: facets(env.db, me))
    visible_cities = [c for c in cities() if me.sees_everything or region_in_scope(me, c)
                      or (me.region_code or "").endswith("0000")]  # fmt: skip
    context = {
        "filters": {"city": city or "", "industry": industry or "", "rule": rule or "",
                    "severity": severity or "", "status": status or "", "period": period or "",
                    "sort": sort},
        "menus": {**menus, "cities": [(c, region_name(c, t)) for c in visible_cities],
                  "industries": [(i, industry_name(i, t)) for i in menus["industries"]],
                  "rules": [(r, rule_title(r, t)) for r in menus["rules"]]},
        "sorts": SORTS, "total": total, "offset": offset, "page_size": PAGE_SIZE,
        "crumbs": [(t("nav.findings"), None)],
    }  # fmt: skip
    return env.render("findings.html", context, [Table("queue", QUEUE_COLS, items, wide=True)])


def _links_for(env: PageEnv, enterprise_id: int, evidence: Any) -> list[tuple[str, str]]:
    """Links from the evidence: meters by code, source rows by file and id or number."""
    links: list[tuple[str, str]] = []
    text = str(evidence)
    codes = set(re.findall(r"'(E\d{4}-[A-Z0-9_-]+)'", text)) | set(
        re.findall(r'"(E\d{4}-[A-Z0-9_-]+)"', text)
    )
    codes |= {c for c in _strings(evidence) if _looks_like_meter(c)}
    if codes:
        found = env.db.execute(select(Meter.id, Meter.code).where(
            Meter.code.in_(sorted(codes)), Meter.enterprise_id == enterprise_id)).all()  # fmt: skip
        links += [(f"/meters/{i}", c) for i, c in sorted(found, key=lambda r: r[1])]
    for ref in _source_refs(evidence):
        links.append(ref)
    return links


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _looks_like_meter(text: str) -> bool:
    return 3 <= len(text) <= 64 and "-" in text and " " not in text and not text[:4].isdigit()


def _source_refs(evidence: Any) -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    if isinstance(evidence, dict):
        file = str(evidence.get("source_file", ""))
        kind = file.rsplit("/", 1)[-1].split(".")[0]
        if kind in SOURCE_TABLES and evidence.get("id") is not None:
            refs.append((f"/sources/{kind}/{evidence['id']}",
                         f"{file} #{evidence.get('source_row')}"))  # fmt: skip
        for key, value in evidence.items():
            if key in SOURCE_NUMBERS and isinstance(value, list):
                refs += [(f"/sources/{SOURCE_NUMBERS[key]}/{n}", str(n)) for n in value[:20]]
            else:
                refs += _source_refs(value)
    elif isinstance(evidence, list):
        for value in evidence:
            refs += _source_refs(value)
    return refs


@router.get("/findings/{finding_id}")
def finding_page(
    env: SignedIn, finding_id: int = Path(ge=1, le=2**31 - 1), error: str | None = None
) -> Response:
    t = env.t
    f = get_finding(env.db, env.me, finding_id)
    e = env.db.get(Enterprise, f.enterprise_id)
    assert e is not None
    events = events_of(env.db, f.id)
    cols = [*history_cols(), Col("assignee", "col.assignee"), Col("comment", "col.comment")]
    history = Table(
        "history", cols,
        [history_row(ev) | {"assignee": ev.assignee, "comment": ev.comment} for ev in events],
        empty="table.no_history",
    )  # fmt: skip
    evidence = Table("evidence", [Col("label", "col.field"), Col("value", "col.value"),
                                  Col("path", "col.code", "code")],
                     [{"label": evidence_label(p, t), "value": v, "path": p}
                      for p, v in evidence_rows(f.evidence, env.tz)])  # fmt: skip
    users = list(env.db.scalars(select(User.username).where(User.active).order_by(User.username)))
    context = {
        "f": f, "e": e, "title": rule_title(f.rule_code, t),
        "message": finding_message(f.rule_code, f.evidence, f.message, t, env.tz),
        "links": _links_for(env, e.id, f.evidence), "may_act": may_act(env),
        "assignee": assignees_of(env.db, [f.id]).get(f.id), "users": users,
        "error": error, "done": env.request.query_params.get("done"),
        "crumbs": [(t("nav.findings"), "/findings"),
                   (f"#{f.id} {rule_title(f.rule_code, t)}", None)],
        "actions": [a for a in ACTIONS if ACTIONS[a] != f.status],
    }  # fmt: skip
    return env.render("finding.html", context, [evidence, history])


@router.post("/findings/{finding_id}/action")
def finding_action(
    env: SignedIn,
    action: Annotated[str, Form(max_length=12)],
    comment: Annotated[str, Form(max_length=2000)] = "",
    assignee: Annotated[str, Form(max_length=64)] = "",
    finding_id: int = Path(ge=1, le=2**31 - 1),
) -> Response:
    env.require(may_act(env), "an enterprise user may not change a finding")
    check_finding_writer(env.db, env.me, finding_id)
    try:
        act_on_finding(env.db, env.me, finding_id, action, comment, assignee or None)
    except InputError as exc:
        if exc.location.field not in ("comment", "assignee", "action"):
            raise
        error = env.t(f"finding.error.{exc.location.field}")
        return refused(env, partial(finding_page, env, finding_id, error=error))
    return done(env, f"/findings/{finding_id}?done={action}")


@router.get("/sources/{kind}/{key}")
def source_row(env: SignedIn, kind: str, key: str) -> Response:
    model = SOURCE_TABLES.get(kind)
    if model is None:
        raise NotFoundError(f"no source table {kind}")
    column = {"tax_invoices": "invoice_no", "logistics_waybills": "waybill_no"}.get(kind)
    if column and (not key.isdigit() or len(key) > 12):
        stmt = select(model).where(getattr(model, column) == key)
    elif key.isdigit() and len(key) <= 12:
        stmt = select(model).where(model.id == int(key))
    else:
        raise NotFoundError(f"{kind} {key} not found")
    if hasattr(model, "enterprise_id"):
        stmt = stmt.join(Enterprise, Enterprise.id == model.enterprise_id).where(
            enterprise_scope(env.me)
        )
    row = env.db.scalar(stmt)
    if row is None:
        raise NotFoundError(f"{kind} {key} not found")
    fields = [{"field": c.name, "value": getattr(row, c.key)} for c in model.__table__.columns]
    table = Table("row", [Col("field", "col.field", "code"), Col("value", "col.value")], fields)
    context = {"kind": kind, "key": key, "crumbs": [(t_kind(env, kind), None), (key, None)]}
    return env.render("source_row.html", context, [table])


def t_kind(env: PageEnv, kind: str) -> str:
    return env.t(f"source.{kind}")
