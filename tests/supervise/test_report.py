"""The supervision report: built from the same services as the API, written by
``kilnwatch report supervision`` and read back."""

from __future__ import annotations

import dataclasses
import io
import sys
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.store.engine import make_session_factory, unit_of_work
from kilnwatch.supervise import items as svc
from kilnwatch.supervise.penalties import Deduction, propose_penalty, set_allocation
from kilnwatch.supervise.rectification import open_rectification

sys.path.insert(0, str(Path(__file__).parent))
from _factory import build, principal  # noqa: E402

runner = CliRunner()


def test_supervision_report(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    year = str(date.today().year)
    with unit_of_work(make_session_factory(engine)) as session:
        world = build(session)
        city, province = principal("jinan", world), principal("shandong", world)
        set_allocation(session, province, region_code="370100", enterprise_uscc=None,
                       period=year, quota="energy", amount=1000.0)  # fmt: skip
        late = open_rectification(session, enterprise_id=world.jinan_id, source_code="manual",
                                  source_ref="r1", title="逾期", actor="jinan",
                                  due_date=date.today() - timedelta(days=1))  # fmt: skip
        open_rectification(session, enterprise_id=world.qingdao_id, source_code="manual",
                           source_ref="r2", title="按期", actor="qingdao",
                           due_date=date.today() + timedelta(days=9))  # fmt: skip
        svc.transition(session, city, late.id, "escalate", "逾期")
        penalty = propose_penalty(session, city, enterprise_id=world.jinan_id,
                                  deduction=Deduction("energy", 40.0, year),
                                  legal_basis="《节约能源法》", grounds="逾期",
                                  source_item_id=late.id)  # fmt: skip
        svc.transition(session, city, penalty.id, "decide", "决定")
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    out = tmp_path / "supervision.xlsx"
    r = runner.invoke(app, ["report", "supervision", "--period", year, "--format", "xlsx",
                            "--out", str(out)], env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    wb = load_workbook(io.BytesIO(out.read_bytes()), data_only=True)
    cells = [list(row) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)]
    flat = [c for row in cells for c in row if c is not None]
    assert "《节约能源法》" in flat  # the decided penalty with its legal basis
    quota_rows = [row for row in cells if 960 in row or 960.0 in row]
    assert quota_rows and 40 in quota_rows[0]  # 1000 allocated − 40 deducted
    work: dict[str, tuple[object, ...]] = {}
    for row in cells:  # the first table naming the cities is the work by city
        if row and row[0] in ("济南市", "青岛市"):
            work.setdefault(str(row[0]), tuple(row))
    # Jinan: one rectification and one penalty opened, the penalty closed, nothing pending
    # (the rectification is escalated, a final state); Qingdao: one rectification pending
    assert work["济南市"][1:5] == (1, 0, 1, 0) and work["青岛市"][1] == 1, work


def test_inspections_report(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    """``kilnwatch report inspections --period 2025H1``: the round's visits and a check that
    did not match the platform, read back from the workbook."""
    from sqlalchemy import select

    from kilnwatch.domain.periods import parse_period
    from kilnwatch.store.models import InspectionVisit
    from kilnwatch.supervise.rounds import default_options, plan_and_store, record_checks

    period = parse_period("2025H1", settings.zone)
    with unit_of_work(make_session_factory(engine)) as session:
        world = build(session)
        province = principal("shandong", world)
        # two enterprises of unequal load: a small world needs a wide tolerance
        options = dataclasses.replace(default_options("2025H1", period, groups=2),
                                      tolerance_fraction=0.9)  # fmt: skip
        rnd, _ = plan_and_store(session, province, options)
        visits = list(
            session.scalars(select(InspectionVisit).where(InspectionVisit.round_id == rnd.id))
        )
        assert visits
        record_checks(
            session, province, visits[0].id, {"energy": (123.0, False, "台账与计量不符")}, period
        )
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    out = tmp_path / "inspections.xlsx"
    r = runner.invoke(app, ["report", "inspections", "--period", "2025H1", "--format", "xlsx",
                            "--out", str(out)], env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    wb = load_workbook(io.BytesIO(out.read_bytes()), data_only=True)
    flat = [
        c
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if c is not None
    ]
    assert "2025H1" in flat and "台账与计量不符" in flat and 123 in flat
