"""Scheduled reports: due times and periods, generation into the archive, e-mail through a real
SMTP server on loopback with a controlled clock, retries, idempotent ticks, the API."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from smtp_server import free_port, smtp_server
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.errors import InputError
from kilnwatch.reports.schedule_rules import Rule, due_occurrence, next_occurrence, period_for
from kilnwatch.reports.scheduler import ScheduleRequest, add_schedule, principal_of, tick
from kilnwatch.store.engine import make_session_factory
from kilnwatch.store.models import ReportArchive, ReportDelivery

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
CREATED = datetime(2025, 3, 20, tzinfo=SH)
DUE = datetime(2025, 4, 1, 8, 0, tzinfo=SH)
MONTHLY = ScheduleRequest("monthly", "monthly", "08:00", ("zibo-office@example.org",),
                          city="3703")  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "now", "due", "period"),
    [
        (Rule("monthly", "08:00"), datetime(2025, 4, 1, 8, 0, tzinfo=SH),
         datetime(2025, 4, 1, 8, 0, tzinfo=SH), "2025-03"),
        (Rule("monthly", "08:00"), datetime(2025, 4, 1, 7, 59, tzinfo=SH),
         datetime(2025, 3, 1, 8, 0, tzinfo=SH), "2025-02"),
        (Rule("monthly", "06:30", day_of_month=5), datetime(2025, 1, 3, tzinfo=SH),
         datetime(2024, 12, 5, 6, 30, tzinfo=SH), "2024-11"),
        (Rule("weekly", "09:00", weekday=1), datetime(2025, 3, 10, 9, 0, tzinfo=SH),
         datetime(2025, 3, 10, 9, 0, tzinfo=SH), "2025-W10"),
        (Rule("weekly", "09:00", weekday=3), datetime(2025, 3, 11, 23, 0, tzinfo=SH),
         datetime(2025, 3, 5, 9, 0, tzinfo=SH), "2025-W09"),
        (Rule("weekly", "00:00", weekday=1), datetime(2025, 1, 6, 0, 0, tzinfo=SH),
         datetime(2025, 1, 6, 0, 0, tzinfo=SH), "2025-W01"),
    ],
)  # fmt: skip
def test_due_times_and_periods(rule: Rule, now: datetime, due: datetime, period: str) -> None:
    got = due_occurrence(rule, datetime(2020, 1, 1, tzinfo=UTC), now, TZ)
    assert got == due and period_for(rule, due, TZ).label == period
    assert next_occurrence(rule, due, TZ) > due


def test_never_due_before_the_schedule_existed() -> None:
    rule = Rule("monthly", "08:00")
    assert due_occurrence(rule, CREATED, datetime(2025, 3, 31, 23, tzinfo=SH), TZ) is None
    assert next_occurrence(rule, CREATED, TZ) == DUE
    for bad in ({"time_of_day": "8:00"}, {"weekday": 8}, {"day_of_month": 31}, {"rule": "daily"}):
        with pytest.raises(InputError):
            Rule(**{"rule": "monthly", "time_of_day": "08:00", **bad})  # type: ignore[arg-type]


def _scheduled(session: Session, engine: Engine) -> sessionmaker[Session]:
    """The monthly report of Zibo scheduled by ``prov`` on 20 March 2025."""
    add_schedule(session, principal_of(session, "prov"), MONTHLY, now=CREATED)
    session.commit()
    return make_session_factory(engine)


def _smtp(settings: Settings, port: int, **extra: object) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": "kw@example.org",
                "report_retry_s": 300.0, **extra}
    )  # fmt: skip


def test_a_scheduled_report_arrives_at_its_time_with_the_attachment(
    settings: Settings, engine: Engine, province: Session, client: TestClient
) -> None:
    factory = _scheduled(province, engine)
    with smtp_server() as (inbox, port):
        s = _smtp(settings, port)
        early = tick(factory, s, DUE - timedelta(minutes=1))
        assert (early.generated, early.sent, inbox.messages) == ([], 0, [])
        on_time = tick(factory, s, DUE)
        assert len(on_time.generated) == 1 and on_time.sent == 1
        again = tick(factory, s, DUE)  # idempotent: nothing generated or sent twice
        assert (again.generated, again.sent) == ([], 0)
        later = tick(factory, s, DUE + timedelta(hours=1))
        assert (later.generated, later.sent) == ([], 0)
    [msg] = inbox.messages
    assert msg["To"] == "zibo-office@example.org" and "2025-03" in msg["Subject"]
    assert "淄博市" in msg["Subject"]
    [attachment] = [p for p in msg.walk() if p.get_filename()]
    assert attachment.get_filename().endswith(".xlsx")
    data = attachment.get_payload(decode=True)
    wb = load_workbook(io.BytesIO(data))
    energy = {r[0]: r[1] for r in wb["分城市综合能耗"].iter_rows(min_row=3, values_only=True)}
    token = client.post(
        "/api/v1/auth/token", data={"username": "prov", "password": "long-password-1"}
    ).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    summary = client.get("/api/v1/accounting/summary?period=2025-03&by=city", headers=h).json()
    zibo = next(g for g in summary if g["key"] == "370300")
    assert list(energy) == ["淄博市"] and energy["淄博市"] == pytest.approx(zibo["energy_tce"])

    page = client.get("/api/v1/reports/archive", headers=h).json()
    [entry] = page["items"]
    assert entry["period"] == "2025-03" and entry["scope"] == "淄博市"
    assert entry["due_at"].startswith("2025-04-01T00:00") and entry["status"] == "generated"
    assert [(d["recipient"], d["status"], d["attempts"]) for d in entry["deliveries"]] == [
        ("zibo-office@example.org", "sent", 1)
    ]
    file = client.get(entry["download_url"], headers=h)
    assert hashlib.sha256(file.content).hexdigest() == entry["sha256"] == hashlib.sha256(
        data).hexdigest()  # fmt: skip


def test_a_failed_send_is_retried_and_recorded(
    settings: Settings, engine: Engine, province: Session
) -> None:
    factory = _scheduled(province, engine)
    with smtp_server() as (inbox, port):
        s = _smtp(settings, port)
        inbox.refuse_next = 1
        first = tick(factory, s, DUE)
        assert (len(first.generated), first.sent, first.send_failures) == (1, 0, 1)
        with factory() as check:
            d = check.scalars(select(ReportDelivery)).one()
            assert (d.status, d.attempts) == ("pending", 1) and "451" in (d.last_error or "")
            assert d.next_attempt_at == DUE + timedelta(seconds=300)
        assert tick(factory, s, DUE + timedelta(seconds=299)).send_failures == 0
        assert inbox.messages == []
        retry = tick(factory, s, DUE + timedelta(seconds=300))
        assert retry.sent == 1 and len(inbox.messages) == 1 and inbox.refused == 1
    with factory() as check:
        d = check.scalars(select(ReportDelivery)).one()
        assert (d.status, d.attempts, d.last_error) == ("sent", 2, None)
        assert [entry["ok"] for entry in d.log] == [False, True]


def test_without_a_server_the_delivery_fails_after_its_attempts(
    settings: Settings, engine: Engine, province: Session
) -> None:
    factory = _scheduled(province, engine)
    s = _smtp(settings, free_port(), report_delivery_attempts=2, smtp_timeout_s=2.0)
    assert tick(factory, s, DUE).send_failures == 1
    assert tick(factory, s, DUE + timedelta(seconds=300)).send_failures == 1
    assert tick(factory, s, DUE + timedelta(days=1)).send_failures == 0
    with factory() as check:
        d = check.scalars(select(ReportDelivery)).one()
        assert (d.status, d.attempts) == ("failed", 2) and len(d.log) == 2
        assert check.scalars(select(ReportArchive.status)).all() == ["generated"]


def test_api_and_cli_manage_schedules(
    settings: Settings, client: TestClient, province: Session, tmp_path: Path
) -> None:
    token = client.post(
        "/api/v1/auth/token", data={"username": "prov", "password": "long-password-1"}
    ).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    body = {"report": "monthly", "rule": "monthly", "time_of_day": "08:00", "city": "3701",
            "recipients": ["jinan@example.org"], "format": "pdf"}  # fmt: skip
    r = client.post("/api/v1/reports/schedules", json=body, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["owner"] == "prov" and created["next_due_at"] is not None
    r = client.post("/api/v1/reports/schedules", json={**body, "time_of_day": "25:00"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "time_of_day"
    r = client.post("/api/v1/reports/schedules", json={**body, "recipients": ["x"]}, headers=h)
    assert r.status_code == 422
    assert [s["id"] for s in client.get("/api/v1/reports/schedules", headers=h).json()] == [
        created["id"]
    ]
    r = client.delete(f"/api/v1/reports/schedules/{created['id']}", headers=h)
    assert r.json()["active"] is False
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url,
           "KILNWATCH_VAR_DIR": str(tmp_path)}  # fmt: skip
    args = ["schedule", "add", "--report", "monthly", "--rule", "monthly", "--at", "08:00",
            "--owner", "prov", "--city", "3703"]  # fmt: skip
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["schedule", "tick", "--now", "2025-04-01T08:00"], env=env)
    assert result.exit_code == 2 and "UTC offset" in result.output
    result = CliRunner().invoke(app, ["schedule", "tick"], env=env)  # now: created just before
    assert result.exit_code == 0 and "generated 0" in result.output
