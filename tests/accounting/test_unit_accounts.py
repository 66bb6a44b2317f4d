"""Unit accounts from stored readings (through the real ingestion path and its rollups)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.accounting.groups import group_accounts
from kilnwatch.accounting.units import unit_accounts
from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.domain import co2_combustion_t
from kilnwatch.domain.periods import parse_period
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.store.repos.users import add_user
from zone import POLICY, SHANGHAI

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
ADMIN = Principal("t", Role.ADMIN)
runner = CliRunner()
MARCH = parse_period("2025-03", SHANGHAI)


def _load_march(session: Session, tmp_path: Path) -> None:
    """Cement line CL1 in March 2025 (Asia/Shanghai): 31 daily readings of each meter.

    Coal (interval meter): 31 x 387.0967742 t ~= 12 000 t; electricity (counter) rises by
    5 000 000 kWh from the reading at 1 March 00:00 to the one at 1 April 00:00; clinker
    (interval): 31 x 3 225.806452 t ~= 100 000 t.
    """
    import_registry(session, REGISTRY)
    extra = tmp_path / "meters.csv"
    extra.write_text(
        "meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure\n"
        "M-JN-K1,91370100MA3C4XY21E,CL1,product:clinker,sub_unit,interval,t\n",
        encoding="utf-8",
    )
    import_registry(session, extra)
    start = MARCH.start.astimezone(UTC)
    rows = []
    for day in range(32):
        ts = start + timedelta(days=day)
        rows.append(RawReading("M-JN-E1", ts, 5_000_000 * day / 31, "kWh"))
        if day:
            rows.append(RawReading("M-JN-C0", ts, 12_000 / 31, "t"))
            rows.append(RawReading("M-JN-K1", ts, 100_000 / 31, "t"))
    result = ingest_readings(
        session, rows, "file", "test", now=datetime(2026, 1, 1, tzinfo=UTC), policy=POLICY
    )
    assert result.rejected == [] and result.accepted == 94, result
    session.commit()


def test_cement_line_account(session: Session, tmp_path: Path) -> None:
    """Energy = 12 000 t x 0.7143 kgce/kg = 8 571 600 kgce (coal) + 5e6 kWh x 0.1229
    = 614 500 kgce (electricity) -> 9 186 100 kgce = 9 186.1 tce.
    Intensity = 9 186 100 kgce / 100 000 t = 91.861 kgce/t <= 100 (NDRC 2021 标杆) -> benchmark.
    CO2 electricity = 5 000 MWh x 0.5306 tCO2/MWh (2023 factor, the newest not after 2025)
    = 2 653 t."""
    _load_march(session, tmp_path)
    acc = next(a for a in unit_accounts(session, ADMIN, MARCH) if a.unit_code == "CL1")
    assert acc.unit_code == "CL1" and acc.level_field == "cement_clinker"
    assert acc.production == pytest.approx(100_000)
    assert acc.energy_tce == pytest.approx(9_186.1)
    assert acc.intensity == pytest.approx(91.861)
    assert (acc.class_, acc.class_table, acc.class_basis) == ("benchmark", "ndrc_2021", "ndrc")
    assert acc.co2_by_source_t["electricity"] == pytest.approx(2_653.0)
    coal = co2_combustion_t("bituminous_coal", 12_000, "t").co2_t
    assert acc.co2_by_source_t["raw_coal"] == pytest.approx(coal)
    assert {i.meter_code for i in acc.inputs} == {"M-JN-E1", "M-JN-C0", "M-JN-K1"}

    [city] = group_accounts(session, [acc], "city")  # the other units have no data
    assert (city.key, city.name, city.units_classified) == ("370100", "济南市", 1)
    assert city.capacity_share_at_benchmark_fraction == pytest.approx(1.0)
    assert city.meets_target is True


def test_units_without_data_say_so(session: Session) -> None:
    import_registry(session, REGISTRY)
    session.commit()
    accounts = unit_accounts(session, ADMIN, MARCH)
    assert len(accounts) == 3
    assert all(a.class_ is None for a in accounts)
    assert all("no production metered in the period" in a.notes for a in accounts)


def test_accounting_api_is_scoped(client: TestClient, session: Session, tmp_path: Path) -> None:
    _load_march(session, tmp_path)
    add_user(session, "qd", "long-password-1", Role.CITY, region_code="370200")
    add_user(session, "jn", "long-password-1", Role.CITY, region_code="370100")
    session.commit()
    for user, expected in (("jn", ["CL1"]), ("qd", ["CO1"])):
        token = client.post(
            "/api/v1/auth/token", data={"username": user, "password": "long-password-1"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        units = client.get("/api/v1/accounting/units?period=2025-03", headers=headers).json()
        assert [u["unit_code"] for u in units] == expected
    page = client.get("/").text  # the public overview: classes by industry, groups of >= 3
    classes = page.split('<table id="classes"')[1].split("</table>")[0]
    assert "能效水平（按行业）" in page and "水泥制造" not in classes  # one cement plant only
    r = client.get("/api/v1/accounting/summary?period=2025-13", headers=headers)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "period"


def test_quarters_and_years_in_the_api_and_the_cli(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    """Every period form is taken where a period is: only March has data, so the first
    quarter and the year hold March's energy under their own label."""
    _load_march(session, tmp_path)
    add_user(session, "admin", "long-password-1", Role.ADMIN)
    session.commit()
    quarter = unit_accounts(session, ADMIN, parse_period("2025-Q1", SHANGHAI))
    cl1 = next(a for a in quarter if a.unit_code == "CL1")
    assert (cl1.period, cl1.energy_tce) == ("2025-Q1", pytest.approx(9_186.1))
    token = client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": "long-password-1"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    units = client.get("/api/v1/accounting/units?period=2025-Q1", headers=headers).json()
    assert {(u["unit_code"], u["period"]) for u in units if u["energy_tce"]} == {
        ("CL1", "2025-Q1")
    }  # fmt: skip
    summary = client.get("/api/v1/accounting/summary?period=2025", headers=headers)
    assert summary.status_code == 200 and summary.json()[0]["key"] == "370100"
    r = client.get("/api/v1/accounting/intensity?period=2025-Q1&base=2020-Q5", headers=headers)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "base"
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url, "COLUMNS": "400"}
    r = runner.invoke(app, ["report", "efficiency", "--period", "2025-Q1", "--json"], env=env)
    assert r.exit_code == 0, r.output
    [row] = [a for a in json.loads(r.output) if a["unit_code"] == "CL1"]
    assert (row["period"], row["energy_tce"]) == ("2025-Q1", pytest.approx(9_186.1))
    r = runner.invoke(
        app, ["report", "carbon", "--period", "2025", "--by", "city", "--lang", "en"], env=env
    )
    assert r.exit_code == 0 and "carbon 2025 by city" in r.output, r.output
    r = runner.invoke(app, ["report", "intensity", "--period", "2025-Q1", "--base", "2024-Q1",
                            "--json"], env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["report", "efficiency", "--period", "2025-Q5"], env=env)
    assert r.exit_code == 2 and "--period" in r.output and "no quarter 5" in r.output
