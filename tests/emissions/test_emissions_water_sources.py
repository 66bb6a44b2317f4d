"""Water withdrawal by source (issue 21), hand-worked: one local day of hourly readings of two
entry meters of two sources and a unit meter whose source the registry does not give."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from _emissions_factory import DAY, REGISTRY, USCC, api_headers
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.emissions.water import water_accounts
from kilnwatch.errors import ImportRejected
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.registry import import_registry

ADMIN = Principal("t", Role.ADMIN)
runner = CliRunner()
# entry: well 10 m3/h x 24 h = 240 m3 groundwater, tap 2.5 m3/h x 24 h = 60 m3 municipal;
# unit CL1: 8 m3/h x 24 h = 192 m3 from a meter without a source -> unspecified, not guessed
ENTERPRISE = {"groundwater": 240.0, "municipal_supply": 60.0}
UNIT = {"unspecified": 192.0}


def test_withdrawal_by_source_per_enterprise_and_unit(water_day: Session) -> None:
    rows = {r.unit_code: r for r in water_accounts(water_day, ADMIN, DAY)}
    entry, unit = rows[None], rows["CL1"]
    assert entry.withdrawal_m3 == pytest.approx(300.0)
    assert entry.by_source == pytest.approx(ENTERPRISE)
    assert list(entry.by_source) == ["groundwater", "municipal_supply"]  # reference order
    assert unit.withdrawal_m3 == pytest.approx(192.0) and unit.by_source == pytest.approx(UNIT)
    city = Principal("qd", Role.CITY, region_code="370200")
    assert water_accounts(water_day, city, DAY) == []


def test_cli_prints_and_gives_the_service_rows(
    water_day: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.database_url)
    result = runner.invoke(app, ["emissions", "water", "--period", "2025-03-02", "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["rows"]
    assert got == [r.as_json() for r in water_accounts(water_day, ADMIN, DAY)]
    text = runner.invoke(app, ["emissions", "water", "--period", "2025-03-02"])
    assert text.exit_code == 0, text.output
    assert "groundwater" in text.stdout and "unspecified" in text.stdout


def test_registry_rejects_a_source_on_another_carrier_or_unknown(
    session: Session, tmp_path: Path
) -> None:
    import_registry(session, REGISTRY)
    head = "meter_code,enterprise_uscc,carrier,level,measurement,unit_of_measure,water_source\n"
    for row, reason in (
        (f"E-X,{USCC},electricity,entry,counter,kWh,groundwater", "only a water meter"),
        (f"W-X,{USCC},water,entry,counter,m3,river", "unknown water source 'river'"),
    ):
        f = tmp_path / "meters.csv"
        f.write_text(head + row + "\n", encoding="utf-8")
        with pytest.raises(ImportRejected) as rejected:
            import_registry(session, f)
        [error] = rejected.value.errors
        assert error.location.field == "water_source" and reason in error.reason


def test_api_and_report_give_the_same_figures(
    client: TestClient, water_day: Session, settings: Settings, tmp_path: Path
) -> None:
    h = api_headers(client, water_day, "prov", Role.PROVINCE, "370000")
    r = client.get("/api/v1/emissions/water?period=2025-03-02", headers=h)
    assert r.status_code == 200, r.text
    api = {(x["unit_code"] or ""): x["by_source"] for x in r.json()["rows"]}
    assert api == {"": ENTERPRISE, "CL1": UNIT}
    out = tmp_path / "emissions.xlsx"
    result = runner.invoke(
        app,
        ["report", "emissions", "--period", "2025-03-02", "--format", "xlsx", "--out", str(out)],
        env={"KILNWATCH_DATABASE_URL": settings.database_url},
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(io.BytesIO(out.read_bytes()))
    sources = {"groundwater", "municipal_supply", "unspecified"}
    report: dict[str, dict[str, float]] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            if len(row) >= 5 and row[2] in sources:
                report.setdefault(str(row[1] or ""), {})[str(row[2])] = float(row[4])  # type: ignore[arg-type]
    assert report == api
