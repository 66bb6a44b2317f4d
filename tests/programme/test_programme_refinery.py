"""Refineries are classified (issue 17): the energy factor (能量因数) is recorded with its
evidence and a validity date, metered energy and crude are put in GB 30251-2024's
kgoe/(t·energy factor), every unclassified unit carries a stable reason code, and
``kilnwatch calc level`` takes the energy factor."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.accounting.units import UNCLASSIFIED_CODES, unit_account, unit_accounts
from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.domain.energy import kgce_per_kgoe, refinery_intensity
from kilnwatch.domain.periods import Period, parse_period
from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import RawReading
from kilnwatch.programme import determination
from kilnwatch.programme.energy_factors import energy_factor_records, record_energy_factor
from kilnwatch.programme.view import programme_view
from kilnwatch.store.models import Enterprise, Meter, ProductionUnit
from zone import POLICY, SHANGHAI

ADMIN = Principal("admin", Role.ADMIN)
MARCH = parse_period("2025-03", SHANGHAI)
APRIL = parse_period("2025-04", SHANGHAI)
REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
QD = "91370200163562681G"
RAW_COAL_KGCE_PER_T = 714.3  # GB/T 2589 raw coal 0.7143 kgce/kg (energy/standard_coal_...csv)
runner = CliRunner()


def test_kgoe_is_the_ratio_of_the_two_heat_values() -> None:
    factor, grade = kgce_per_kgoe()
    assert factor == pytest.approx(41868 / 29307)  # 1.42860 kgce per kgoe
    assert grade == "medium"
    # 1 000 000 kgce over 10 000 t crude and factor 8: 1e6 / 1.4286 / 80 000 = 8.7498
    assert refinery_intensity(1e6, 1e4, 8.0) == pytest.approx(1e6 / (41868 / 29307) / 8e4)
    with pytest.raises(InputError, match="energy_factor"):
        refinery_intensity(1e6, 1e4, 0.0)
    with pytest.raises(InputError, match="crude_t"):
        refinery_intensity(1e6, 0.0, 8.0)


def _refinery(**kw: object) -> tuple[ProductionUnit, list[Meter]]:
    enterprise = Enterprise(id=1, uscc=QD, name="炼化", region_code="370211", industry="refining")
    unit = ProductionUnit(id=1, enterprise_id=1, code="CDU1", name="常减压", process="refinery",
                          capacity=1e7, capacity_unit="t/a", enterprise=enterprise)  # fmt: skip
    meters = [
        Meter(id=1, code="R-COAL", unit_id=1, carrier="raw_coal", level="sub_unit",
              measurement="interval", unit_of_measure="t"),
        Meter(id=2, code="R-OUT", unit_id=1, carrier="product:crude_processed", level="sub_unit",
              measurement="interval", unit_of_measure="t"),
    ]  # fmt: skip
    return unit, meters


@pytest.mark.parametrize(
    ("energy_factor", "gb_class", "legal_breach"),
    [(7.0, "between", False), (6.0, "between", False), (5.5, "below_baseline", True)],
)
def test_a_refinery_with_its_energy_factor_is_classified_from_metered_data(
    energy_factor: float, gb_class: str, legal_breach: bool
) -> None:
    unit, meters = _refinery()
    # 74 400 t coal and 744 000 t crude in March: 74 400 × 714.3 / 1.42860 / (744 000 × F)
    acc = unit_account(unit, meters, {1: 74_400, 2: 744_000}, {1: 744, 2: 744}, MARCH,
                       energy_factor=energy_factor)  # fmt: skip
    expected = 74_400 * RAW_COAL_KGCE_PER_T / (41868 / 29307) / (744_000 * energy_factor)
    # F = 7: 7.142 (GB grade 2, 6.85-7.50); F = 6: 8.333 (grade 3); F = 5.5: 9.09 (> 8.50)
    assert acc.intensity == pytest.approx(expected, rel=1e-4)
    assert acc.intensity_unit == "kgoe/(t·energy_factor)"
    assert acc.class_table == "GB 30251-2024" and acc.class_ == gb_class
    assert acc.legal_breach is legal_breach
    assert acc.unclassified_code is None and acc.energy_factor == energy_factor


def test_without_its_energy_factor_a_refinery_says_why_with_a_code() -> None:
    unit, meters = _refinery()
    acc = unit_account(unit, meters, {1: 74_400, 2: 744_000}, {1: 744, 2: 744}, MARCH)
    assert acc.class_ is None and acc.unclassified_code == "level.unclassified.no_energy_factor"
    no_output = unit_account(unit, meters, {1: 74_400}, {1: 744}, MARCH, energy_factor=7.0)
    assert no_output.unclassified_code == "level.unclassified.no_production"
    # a carrier without a confirmed GB/T 2589 coefficient: no energy figure at all
    meters.append(Meter(id=3, code="R-OFG", unit_id=1, carrier="oil_field_gas", level="sub_unit",
                        measurement="interval", unit_of_measure="m3"))  # fmt: skip
    totals = {1: 74_400, 2: 744_000, 3: 1e5}
    nothing = unit_account(unit, meters, totals, {1: 744, 2: 744, 3: 744}, MARCH,
                           energy_factor=7.0)  # fmt: skip
    assert nothing.unclassified_code == "level.unclassified.no_energy_data"


def _load_refinery(session: Session, tmp_path: Path) -> ProductionUnit:
    """Refinery CDU1 of the Qingdao enterprise: 1000 t crude and 100 t raw coal every hour of
    March and April 2025 (71.43 kgce/t crude)."""
    import_registry(session, REGISTRY)
    (tmp_path / "units.csv").write_text(
        "enterprise_uscc,unit_code,name,process,capacity,capacity_unit,commissioned_on,status\n"
        f"{QD},CDU1,常减压,refinery,10000000,t/a,2010-01-01,operating\n",
        encoding="utf-8",
    )
    (tmp_path / "meters.csv").write_text(
        "meter_code,enterprise_uscc,unit_code,carrier,level,measurement,unit_of_measure\n"
        f"R-COAL,{QD},CDU1,raw_coal,sub_unit,interval,t\n"
        f"R-OUT,{QD},CDU1,product:crude_processed,sub_unit,interval,t\n",
        encoding="utf-8",
    )
    import_registry(session, tmp_path / "units.csv")
    import_registry(session, tmp_path / "meters.csv")
    start = datetime(2025, 3, 1, tzinfo=SHANGHAI).astimezone(UTC)
    rows = []
    for hour in range(61 * 24):
        ts = start + timedelta(hours=hour + 1)
        rows += [RawReading("R-OUT", ts, 1000.0, "t"), RawReading("R-COAL", ts, 100.0, "t")]
    result = ingest_readings(
        session, rows, "file", "test", now=datetime(2026, 1, 1, tzinfo=UTC), policy=POLICY
    )
    assert result.rejected == []
    session.commit()
    [unit] = [u for u in session.query(ProductionUnit) if u.code == "CDU1"]
    return unit


def test_recorded_factor_classifies_the_refinery_from_its_date_on(
    session: Session, tmp_path: Path
) -> None:
    unit = _load_refinery(session, tmp_path)
    [march] = [d for d in determination.determine(session, ADMIN, MARCH) if d.unit_id == unit.id]
    assert march.computed_class is None
    assert march.unclassified_code == "level.unclassified.no_energy_factor"
    record_energy_factor(session, ADMIN, unit.id, 7.0, date(2025, 4, 1), "能量因数计算表 2025")
    session.commit()
    # the factor applies from April: March stays unclassified, April is classified
    [march2] = [d for d in determination.determine(session, ADMIN, MARCH) if d.unit_id == unit.id]
    [april] = [d for d in determination.determine(session, ADMIN, APRIL) if d.unit_id == unit.id]
    assert march2.computed_class is None and march2.energy_factor is None
    assert april.energy_factor == 7.0 and april.computed_table == "GB 30251-2024"
    assert april.computed_intensity == pytest.approx(
        100 * RAW_COAL_KGCE_PER_T / (41868 / 29307) / (1000 * 7.0), rel=1e-3
    )  # 7.142 kgoe/(t·F): GB grade 2
    assert april.computed_class == "between" and april.unclassified_code is None
    view = programme_view(session, ADMIN, APRIL, date(2025, 5, 1), "shandong")
    refinery = [u for u in view.accounts if u.unit_id == unit.id]
    assert refinery and refinery[0].class_ == "between"
    assert view.share_classified == view.units_classified / view.units_total
    assert all(code in UNCLASSIFIED_CODES for _, _, code, _ in view.unclassified)
    assert len(view.unclassified) == view.units_total - view.units_classified
    assert sum(view.unclassified_by_code().values()) == len(view.unclassified)


def test_energy_factor_input_is_checked_and_scoped(session: Session, tmp_path: Path) -> None:
    unit = _load_refinery(session, tmp_path)
    clinker = next(u for u in session.query(ProductionUnit) if u.code == "CL1")
    with pytest.raises(InputError, match="not judged per energy factor"):
        record_energy_factor(session, ADMIN, clinker.id, 7.0, date(2025, 1, 1), "sheet")
    with pytest.raises(InputError, match="evidence"):
        record_energy_factor(session, ADMIN, unit.id, 7.0, date(2025, 1, 1), " ")
    with pytest.raises(InputError, match="positive"):
        record_energy_factor(session, ADMIN, unit.id, -1.0, date(2025, 1, 1), "sheet")
    jinan = Principal("jinan", Role.CITY, region_code="370100")
    with pytest.raises(NotFoundError):
        record_energy_factor(session, jinan, unit.id, 7.0, date(2025, 1, 1), "sheet")
    record_energy_factor(session, ADMIN, unit.id, 7.0, date(2025, 1, 1), "sheet")
    assert energy_factor_records(session, jinan) == []
    assert [r.energy_factor for r in energy_factor_records(session, ADMIN, unit.id)] == [7.0]
    accounts = unit_accounts(session, jinan, MARCH)
    assert all(a.unit_code != "CDU1" for a in accounts)


def test_calc_level_takes_the_energy_factor() -> None:
    # 64 kgoe/t over factor 8 = 8.0 kgoe/(t·F): between grade 2 (7.50) and grade 3 (8.50)
    result = runner.invoke(
        app, ["calc", "level", "oil_refining", "64", "--energy-factor", "8", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["value"] == pytest.approx(8.0) and doc["class_table"] == "GB 30251-2024"
    assert doc["legal_breach"] is False and doc["energy_factor"]["energy_factor"] == 8.0
    # 100 kgce/t = 70.0 kgoe/t; over factor 8 = 8.750 > 8.50: the legal limit is breached
    result = runner.invoke(app, ["calc", "level", "oil_refining", "100", "--energy-factor",
                                 "8", "--value-unit", "kgce/t", "--json"])  # fmt: skip
    doc = json.loads(result.stdout)
    assert doc["value"] == pytest.approx(100 / (41868 / 29307) / 8) and doc["legal_breach"]
    refused = runner.invoke(app, ["calc", "level", "cement_clinker", "100", "--energy-factor", "8"])
    assert refused.exit_code == 2 and "not judged per energy factor" in refused.output


def test_programme_energy_factor_command_records_it(
    session: Session, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = _load_refinery(session, tmp_path)
    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.database_url)
    args = ["programme", "energy-factor", f"{QD}/CDU1", "--factor", "7.0", "--valid-from",
            "2025-04-01", "--evidence", "能量因数计算表", "--by", "expert"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    session.expire_all()
    [row] = energy_factor_records(session, ADMIN, unit.id)
    assert (row.energy_factor, row.valid_from, row.recorded_by) == (7.0, date(2025, 4, 1), "expert")
    bad = runner.invoke(app, [*args[:3], "--factor", "0", *args[5:]])
    assert bad.exit_code == 2 and "positive" in bad.output
    result = runner.invoke(app, ["programme", "view", "--period", "2025-04", "--json"])
    doc = json.loads(result.stdout)
    assert doc["units_classified"] >= 1 and 0 < doc["share_classified"] <= 1
    assert all(u["code"] in UNCLASSIFIED_CODES for u in doc["unclassified"])


def test_simulated_refineries_are_classified_with_their_energy_factors(
    session: Session, tmp_path: Path
) -> None:
    """The simulator writes each refinery's energy factor (energy_factors.csv, drawn so the
    true indicator lies in 6.5-9.0 kgoe/(t·F)); imported with the province, the refinery is
    classified from its metered data against GB 30251-2024."""
    from kilnwatch.ingest.folder import import_folder
    from kilnwatch.ingest.validate import ValidationPolicy
    from kilnwatch.programme.energy_factors import import_energy_factors
    from kilnwatch.sim.config import SimParams
    from kilnwatch.sim.run import simulate_to_dir

    params = SimParams(seed=2, enterprises=6, days=3, start=date(2025, 3, 1))
    simulate_to_dir(params, tmp_path / "sim")
    import_folder(session, tmp_path / "sim", policy=ValidationPolicy(local_tz="Asia/Shanghai"))
    assert import_energy_factors(session, ADMIN, tmp_path / "sim" / "energy_factors.csv") == 1
    assert import_energy_factors(session, ADMIN, tmp_path / "sim" / "energy_factors.csv") == 0
    session.commit()
    days = Period.of_days(date(2025, 3, 1), date(2025, 3, 3), SHANGHAI)
    refineries = [a for a in unit_accounts(session, ADMIN, days) if a.process == "refinery"]
    assert len(refineries) == 1
    [acc] = refineries
    assert acc.energy_factor is not None and acc.class_table == "GB 30251-2024"
    assert 6.0 < (acc.intensity or 0) < 9.5 and acc.unclassified_code is None


def test_energy_factor_file_errors_name_row_and_field(session: Session, tmp_path: Path) -> None:
    from kilnwatch.errors import ImportRejected
    from kilnwatch.programme.energy_factors import import_energy_factors

    _load_refinery(session, tmp_path)
    bad = tmp_path / "ef.csv"
    bad.write_text(
        "enterprise_uscc,unit_code,energy_factor,valid_from,evidence\n"
        f"{QD},CDU1,7.1,2025-01-01,sheet\n"
        f"{QD},NOPE,7.1,2025-01-01,sheet\n"
        f"{QD},CDU1,x,2025-13-01,sheet\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as err:
        import_energy_factors(session, ADMIN, bad)
    got = [(e.location.row, e.location.field) for e in err.value.errors]
    assert got == [(3, "unit_code"), (4, "energy_factor"), (4, "valid_from")]
    assert energy_factor_records(session, ADMIN) == []  # nothing of a refused file
