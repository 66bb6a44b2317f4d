"""The emissions API, its scoping, and the emissions report read back against the API."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from _emissions_factory import USCC
from _emissions_factory import api_headers as _headers
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.identity import Role

runner = CliRunner()


def test_summary_stacks_and_scope(client: TestClient, stack_day: Session) -> None:
    h = _headers(client, stack_day, "prov", Role.PROVINCE, "370000")
    r = client.get("/api/v1/emissions/summary?period=2025-03-02&by=enterprise", headers=h)
    assert r.status_code == 200, r.text
    [row] = r.json()["rows"]
    assert row["key"] == USCC
    assert (row["so2_t"], row["nox_t"], row["dust_t"]) == pytest.approx((0.12, 0.765, 0.024))
    [stack] = client.get("/api/v1/emissions/stacks?period=2025-03-02", headers=h).json()["stacks"]
    nox = stack["pollutants"]["nox"]
    assert nox["exceedance_hours"] == 3 and len(nox["episodes"]) == 1
    assert nox["limit"]["ref"] == "cement_general.nox"
    other = _headers(client, stack_day, "qd", Role.CITY, "370200")  # Qingdao sees nothing here
    assert (
        client.get("/api/v1/emissions/summary?period=2025-03-02", headers=other).json()["rows"]
        == []
    )
    bad = client.get("/api/v1/emissions/summary?period=2025-13", headers=h)
    assert bad.status_code == 422 or bad.status_code == 400


# WeasyPrint warns at import when the system lacks libharfbuzz-subset (a packaging notice)
@pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning")
def test_report_opens_with_the_api_quantities(
    client: TestClient, stack_day: Session, settings: Settings, tmp_path: Path
) -> None:
    h = _headers(client, stack_day, "prov", Role.PROVINCE, "370000")
    [api_row] = client.get("/api/v1/emissions/summary?period=2025-03-02", headers=h).json()["rows"]
    out = tmp_path / "emissions.xlsx"
    result = runner.invoke(
        app,
        ["report", "emissions", "--period", "2025-03-02", "--format", "xlsx", "--out", str(out)],
        env={"KILNWATCH_DATABASE_URL": settings.database_url},
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(io.BytesIO(out.read_bytes()))
    values = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    for key in ("so2_t", "nox_t", "dust_t"):
        assert any(isinstance(v, float) and v == pytest.approx(api_row[key]) for v in values), key
    r = client.get("/api/v1/reports/emissions?period=2025-03-02&format=pdf&lang=en", headers=h)
    assert r.status_code == 200, r.text
    pdf = tmp_path / "emissions.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout
    assert b"0.765" in text and b"Exceedance" in text
