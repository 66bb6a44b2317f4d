from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kilnwatch.errors import ImportRejected
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.tables import write_rejects
from kilnwatch.store.models import Enterprise, Gateway, Meter, ProductionUnit, Project

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_imports_a_folder_and_reimport_is_idempotent(session: Session) -> None:
    report = import_registry(session, REGISTRY)
    session.commit()
    assert report.created == {
        "enterprises": 3,
        "units": 3,
        "projects": 1,
        "gateways": 2,
        "meters": 4,
    }
    sub = session.scalar(select(Meter).where(Meter.code == "M-JN-E1"))
    assert sub is not None and sub.parent is not None and sub.parent.code == "M-JN-E0"
    project = session.scalar(select(Project))
    assert project is not None and [u.code for u in project.units] == ["CL1"]
    gateway = session.scalar(select(Gateway).where(Gateway.code == "GW-JN-01"))
    assert gateway is not None and gateway.secret_hash and "s3cret" not in gateway.secret_hash

    again = import_registry(session, REGISTRY)
    session.commit()
    assert sum(again.created.values()) == 0
    assert again.updated["meters"] == 4
    assert _count(session, Enterprise) == 3


def test_bad_rows_are_refused_one_line_each_and_nothing_changes(
    session: Session, tmp_path: Path
) -> None:
    import_registry(session, REGISTRY)
    session.commit()
    before = (_count(session, Enterprise), _count(session, ProductionUnit))
    bad = tmp_path / "units.csv"
    bad.write_text(
        "enterprise_uscc,unit_code,name,process,capacity,capacity_unit,commissioned_on,status\n"
        "91370100MA3C4XY21F,CL9,x,cement_clinker_line,100,t/a,,operating\n"
        "91370100MA3C4XY21E,CL2,y,cement_clinker_line,-5,t/a,,operating\n"
        "91370100MA3C4XY21E,CL3,z,cement_clinker_line,100,t/a,,operating\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as info:
        import_registry(session, bad)
    session.rollback()
    messages = [e.message for e in info.value.errors]
    assert messages == [
        "units.csv, row 1, field 'enterprise_uscc': unknown enterprise 91370100MA3C4XY21F",
        "units.csv, row 2, field 'capacity': must be a positive number, got -5",
    ]
    assert (_count(session, Enterprise), _count(session, ProductionUnit)) == before


def test_bad_credit_code_unknown_region_negative_capacity(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    (folder / "enterprises.csv").write_text(
        "uscc,name,region_code,industry,status\n"
        "91370100MA3C4XY21X,坏代码企业,370112,cement,operating\n"
        "913701007062084595,未知区划企业,379999,cement,operating\n",
        encoding="utf-8",
    )
    (folder / "units.csv").write_text(
        "enterprise_uscc,unit_code,name,process,capacity,capacity_unit\n"
        "913701007062084595,L1,线,cement_clinker_line,-1,t/a\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as info:
        import_registry(session, folder)
    session.rollback()
    reasons = [(e.location.file, e.location.row, e.location.field) for e in info.value.errors]
    assert reasons == [
        ("enterprises.csv", 1, "uscc"),
        ("enterprises.csv", 2, "region_code"),
        ("units.csv", 1, "capacity"),
    ]
    assert "check character" in info.value.errors[0].reason
    assert _count(session, Enterprise) == 0


def test_skip_invalid_writes_good_rows_and_returns_rejects(
    session: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "reg"
    shutil.copytree(REGISTRY, folder)
    with (folder / "meters.csv").open("a", encoding="utf-8") as f:
        f.write("M-BAD,91370100MA3C4XY21E,NOPE,electricity,entry,,counter,kWh,,,,,\n")
    report = import_registry(session, folder, skip_invalid=True)
    session.commit()
    assert report.created["meters"] == 4
    assert len(report.rejected) == 1
    out = tmp_path / "rejects.csv"
    write_rejects(report.rejected, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("file,row,field,reason,meter_code")
    assert lines[1].startswith("meters.csv,5,unit_code,unknown unit 'NOPE'")


def test_unknown_and_missing_columns(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    path.write_text("uscc,name,regoin_code,industry\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_registry(session, path)
    assert [e.message for e in info.value.errors] == [
        "enterprises.csv, field 'region_code': required column is missing",
        "enterprises.csv, field 'regoin_code': unknown column (typo?)",
    ]


def test_xlsx_enterprises(session: Session, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["uscc", "name", "region_code", "industry", "status"])
    sheet.append(["91370800MA3N7K2P5E", "济宁示例电厂", 370811, "coal_power", "operating"])
    path = tmp_path / "enterprises.xlsx"
    workbook.save(path)
    report = import_registry(session, path)
    session.commit()
    assert report.created == {"enterprises": 1}
    assert session.scalar(select(Enterprise.region_code)) == "370811"


def test_meter_carrier_and_unit_must_be_known(session: Session, tmp_path: Path) -> None:
    import_registry(session, REGISTRY)
    session.commit()
    path = tmp_path / "meters.csv"
    path.write_text(
        "meter_code,enterprise_uscc,carrier,level,measurement,unit_of_measure\n"
        "M1,91370100MA3C4XY21E,unobtainium,entry,counter,kWh\n"
        "M2,91370100MA3C4XY21E,product:clinker,sub_unit,interval,furlongs\n"
        "M3,91370100MA3C4XY21E,product:nothing,sub_unit,interval,t\n"
        "M4,91370100MA3C4XY21E,nox,equipment,instant,mg/m3\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as info:
        import_registry(session, path)
    assert [(e.location.row, e.location.field) for e in info.value.errors] == [
        (1, "carrier"),
        (2, "unit_of_measure"),
        (3, "carrier"),
    ]


def test_an_mn_names_one_gateway(session: Session, tmp_path: Path) -> None:
    """Found by the registry fuzz's long form: a second gateway with a taken MN raised the
    database's unique-constraint error; it is now a located error, in the file and against
    the database."""
    folder = tmp_path / "reg"
    shutil.copytree(REGISTRY, folder)
    gateways = folder / "gateways.csv"
    taken = "GW-JN-213,91370100MA3C4XY21E,hj212,88888880000001,s3cret-jn-213\n"
    with gateways.open("a", encoding="utf-8") as f:
        f.write(taken)
    with pytest.raises(ImportRejected) as info:
        import_registry(session, folder)
    session.rollback()
    assert [e.message for e in info.value.errors] == [
        "gateways.csv, row 3, field 'mn': MN 88888880000001 already belongs to gateway"
        " 'GW-JN-212' (free it there first)"
    ]
    assert _count(session, Gateway) == 0

    import_registry(session, REGISTRY)
    session.commit()
    alone = tmp_path / "gateways.csv"
    alone.write_text(gateways.read_text(encoding="utf-8").splitlines()[0] + "\n" + taken,
                     encoding="utf-8")  # fmt: skip
    with pytest.raises(ImportRejected) as info:
        import_registry(session, alone)
    session.rollback()
    assert [e.location.field for e in info.value.errors] == ["mn"]
    assert _count(session, Gateway) == 2
