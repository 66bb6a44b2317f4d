"""Notices by e-mail and complaint replies sent back to the complainant (issue 15), through a
real SMTP server on loopback (aiosmtpd), like the scheduled reports."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.errors import InputError
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.store.models import OutboxMail
from kilnwatch.supervise import items as svc
from kilnwatch.supervise.complaints import Complaint, receive_complaint
from kilnwatch.supervise.mailer import deliveries, send_pending, set_contact
from kilnwatch.supervise.rectification import open_rectification

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "reports"))
from _factory import build, principal, sign_in, token  # noqa: E402
from smtp_server import smtp_server  # noqa: E402


def _smtp(settings: Settings, port: int) -> Settings:
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port,
                                       "smtp_from": "kilnwatch@example.org"})  # fmt: skip


def test_a_notice_goes_by_mail_once_and_a_refusal_is_retried(
    session: Session, settings: Settings
) -> None:
    world = build(session)
    set_contact(session, "jinan", "jinan-supervisor@example.org", True)
    set_contact(session, "shandong", "province@example.org", False)  # inbox only
    with pytest.raises(InputError, match="not an e-mail address"):
        set_contact(session, "jinan_stats", "0531-1234567", True)
    item = open_rectification(session, enterprise_id=world.jinan_id, source_code="manual",
                              source_ref="mail-1", title="整改：计量器具", assignee="jinan",
                              due_date=date(2025, 5, 1), actor="shandong")  # fmt: skip
    [queued] = deliveries(session, item.id)
    assert (queued.kind, queued.to_address, queued.sent_at) == (
        "notice", "jinan-supervisor@example.org", None)  # fmt: skip
    with smtp_server() as (inbox, port):
        inbox.refuse_next = 1
        first = send_pending(session, _smtp(settings, port))
        assert (first.sent, first.failed) == (0, 1) and queued.last_error and queued.attempts == 1
        second = send_pending(session, _smtp(settings, port))
        assert (second.sent, second.failed) == (1, 0) and queued.sent_at is not None
        assert send_pending(session, _smtp(settings, port)).sent == 0  # never twice
    [msg] = inbox.messages
    assert msg["To"] == "jinan-supervisor@example.org" and f"#{item.id}" in msg["Subject"]
    assert "assigned" in msg.get_content()


def test_the_reply_goes_back_to_an_email_complainant_only(
    session: Session, settings: Settings
) -> None:
    world = build(session)
    by_mail = receive_complaint(session, Complaint(
        subject="夜间偷排", body="工厂夜间冒黑烟", channel="web", enterprise_uscc=None,
        region_code="370100", complainant="李四", contact="lisi@example.org"),
        actor="web")  # fmt: skip
    by_phone = receive_complaint(session, Complaint(
        subject="噪声", body="夜间噪声", channel="phone", region_code="370100",
        complainant="王五", contact="13800000000"), actor="phone")  # fmt: skip
    city = principal("jinan", world)
    for item in (by_mail, by_phone):
        svc.transition(session, city, item.id, "triage", "分办")
        svc.transition(session, city, item.id, "reply", "答复",
                       response="经核查，已责令整改并处罚。")  # fmt: skip
    [reply] = [m for m in deliveries(session, by_mail.id) if m.kind == "reply"]
    assert reply.to_address == "lisi@example.org" and "已责令整改" in reply.body
    assert [m for m in deliveries(session, by_phone.id) if m.kind == "reply"] == []
    with smtp_server() as (inbox, port):
        send_pending(session, _smtp(settings, port))
    got = [m for m in inbox.messages if m["To"] == "lisi@example.org"]
    assert len(got) == 1 and "李四" in got[0].get_content()


def test_notices_page_sets_the_address_and_the_cli_sends(
    browser: TestClient, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unit_of_work(make_session_factory(engine)) as session:
        world = build(session)
    sign_in(browser, "jinan")
    page = browser.get("/supervision/notices")
    form = {"csrf_token": token(page.text), "by_email": "1", "prefassigned": "1"}
    bad = browser.post("/supervision/notices", data={**form, "email": "not-an-address"})
    assert bad.status_code == 422 and 'id="action-error"' in bad.text
    ok = browser.post("/supervision/notices", data={"csrf_token": token(page.text),
                      "email": "jn@example.org", "by_email": "1", "prefassigned": "1"},
                      follow_redirects=True)  # fmt: skip
    assert ok.status_code == 200 and 'value="jn@example.org"' in ok.text
    with unit_of_work(make_session_factory(engine)) as session:
        open_rectification(session, enterprise_id=world.jinan_id, source_code="manual",
                           source_ref="mail-cli", title="整改", assignee="jinan",
                           due_date=date(2025, 5, 1), actor="shandong")  # fmt: skip
    with smtp_server() as (inbox, port):
        monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("KILNWATCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("KILNWATCH_SMTP_PORT", str(port))
        result = CliRunner().invoke(app, ["supervise", "send-mail"])
        assert result.exit_code == 0, result.output
        assert "1 sent, 0 refused" in result.output
    assert [m["To"] for m in inbox.messages] == ["jn@example.org"]
    with unit_of_work(make_session_factory(engine)) as session:
        assert session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))).all() == []
