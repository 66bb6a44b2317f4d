"""Saved column mappings: wide and long exports of existing systems (CSV in GBK, XLSX, JSON),
mapped once and reused; faults named by source file, row and column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.config import Settings
from kilnwatch.errors import ImportRejected, InputError, NotFoundError
from kilnwatch.ingest.mappings import (
    guess_spec,
    import_with_mapping,
    parse_spec,
    preview_mapping,
    save_spec,
)
from kilnwatch.ingest.registry import import_registry
from kilnwatch.store.models import Meter, Reading
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
WIDE = {
    "ts_column": "时间",
    "ts_format": "%Y/%m/%d %H:%M",
    "value_columns": [
        {"column": "1#进线(kWh)", "meter_code": "M-JN-E0", "unit": "kWh"},
        {"column": "原煤(吨)", "meter_code": "M-JN-C0", "unit": "吨"},
    ],
    "unit_names": {"吨": "t"},
}
LONG = {
    "ts_column": "采集时间",
    "meter_column": "计量点",
    "value_column": "读数",
    "unit_column": "单位",
    "meter_codes": {"1#进线": "M-JN-E0", "原煤皮带秤": "M-JN-C0"},
    "unit_names": {"千瓦时": "kWh", "吨": "t", "兆瓦时": "MWh"},
    "records_path": "data.rows",
}


@pytest.fixture
def loaded(session: Session) -> Session:
    import_registry(session, REGISTRY)
    session.commit()
    return session


def _wide_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["时间,1#进线(kWh),原煤(吨),备注"] + [f'{t},"{e}",{c},正常' for t, e, c in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def _readings(session: Session) -> list[tuple[str, datetime, float]]:
    rows = session.execute(
        select(Meter.code, Reading.ts, Reading.value)
        .join(Meter, Meter.id == Reading.meter_id)
        .order_by(Meter.code, Reading.ts)
    ).all()
    return [(c, t.astimezone(UTC), v) for c, t, v in rows]


def test_spec_checks_name_the_key() -> None:
    with pytest.raises(InputError) as info:
        parse_spec({"ts_column": "t", "meter_column": "m"})
    assert info.value.location.field == "value_column"
    with pytest.raises(InputError, match="unknown key"):
        parse_spec({**LONG, "colour": "red"})
    with pytest.raises(InputError, match="not both"):
        parse_spec({**WIDE, "meter_column": "m"})
    assert parse_spec(parse_spec(LONG).to_json()) == parse_spec(LONG)


def test_wide_gbk_csv_saved_once_applied_twice(loaded: Session, tmp_path: Path) -> None:
    save_spec(loaded, "scada-jinan", "济南示例水泥 SCADA 日报", WIDE, "admin")
    first = _wide_csv(tmp_path / "三月.csv", [("2025/03/01 08:00", "1,200.5", "3.5"),
                                              ("2025/03/01 09:00", "1,300", "")])  # fmt: skip
    report = import_with_mapping(loaded, "scada-jinan", first, policy=POLICY)
    assert (report.source_rows, report.readings, report.accepted) == (2, 3, 3)
    assert report.encoding == "gb18030 (detected)"
    second = _wide_csv(tmp_path / "四月.csv", [("2025/03/01 10:00", "1400", "4")])
    import_with_mapping(loaded, "scada-jinan", second, policy=POLICY)
    loaded.commit()
    # 08:00 in Asia/Shanghai (the tests' Settings.timezone) is 00:00 UTC
    assert _readings(loaded) == [
        ("M-JN-C0", datetime(2025, 3, 1, 0, tzinfo=UTC), 3.5),
        ("M-JN-C0", datetime(2025, 3, 1, 2, tzinfo=UTC), 4.0),
        ("M-JN-E0", datetime(2025, 3, 1, 0, tzinfo=UTC), 1200.5),
        ("M-JN-E0", datetime(2025, 3, 1, 1, tzinfo=UTC), 1300.0),
        ("M-JN-E0", datetime(2025, 3, 1, 2, tzinfo=UTC), 1400.0),
    ]


def test_faults_name_source_file_row_and_column(loaded: Session, tmp_path: Path) -> None:
    save_spec(loaded, "scada", "", WIDE, "admin")
    loaded.commit()
    path = _wide_csv(tmp_path / "bad.csv", [("2025/03/01 08:00", "12", "1"),
                                            ("2025-03-01 9点", "13", "2"),
                                            ("2025/03/01 10:00", "abc", "-4")])  # fmt: skip
    with pytest.raises(ImportRejected) as info:
        import_with_mapping(loaded, "scada", path, policy=POLICY)
    loaded.rollback()
    located = sorted((e.location.row, e.location.field) for e in info.value.errors)
    assert located == [(2, "时间"), (3, "1#进线(kWh)"), (3, "原煤(吨)")]
    assert all(e.location.file == "bad.csv" for e in info.value.errors)
    assert loaded.scalar(select(func.count()).select_from(Reading)) == 0
    report = import_with_mapping(loaded, "scada", path, policy=POLICY, skip_invalid=True)
    assert (report.accepted, report.rejected) == (2, 3)
    missing = tmp_path / "other.csv"
    missing.write_text("日期,电\n2025/03/01 08:00,1\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_with_mapping(loaded, "scada", missing, policy=POLICY)
    assert [e.location.field for e in info.value.errors] == ["时间", "1#进线(kWh)", "原煤(吨)"]
    with pytest.raises(NotFoundError):
        import_with_mapping(loaded, "nope", missing, policy=POLICY)


def test_long_json_and_xlsx_exports(loaded: Session, tmp_path: Path) -> None:
    save_spec(loaded, "ems", "某能源管理系统 API 导出", LONG, "admin")
    records = [
        {"采集时间": "2025-03-01T08:00:00+08:00", "计量点": "1#进线", "读数": 2.5,
         "单位": "兆瓦时"},
        {"采集时间": "2025-03-01 09:00:00", "计量点": "原煤皮带秤", "读数": "7", "单位": "吨"},
    ]  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"data": {"rows": records}}, ensure_ascii=False), encoding="utf-8")
    report = import_with_mapping(loaded, "ems", path, policy=POLICY)
    assert (report.readings, report.accepted) == (2, 2)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["采集时间", "计量点", "读数", "单位"])
    sheet.append([datetime(2025, 3, 1, 10, 0), "1#进线", 2600, "千瓦时"])
    xlsx = tmp_path / "export.xlsx"
    book.save(xlsx)
    assert import_with_mapping(loaded, "ems", xlsx, policy=POLICY).accepted == 1
    loaded.commit()
    assert _readings(loaded) == [
        ("M-JN-C0", datetime(2025, 3, 1, 1, tzinfo=UTC), 7.0),
        ("M-JN-E0", datetime(2025, 3, 1, 0, tzinfo=UTC), 2500.0),  # MWh to the meter's kWh
        ("M-JN-E0", datetime(2025, 3, 1, 2, tzinfo=UTC), 2600.0),
    ]


def test_guess_and_preview(tmp_path: Path) -> None:
    assert guess_spec(("采集时间", "表号", "读数", "单位")) == {
        "ts_column": "采集时间", "meter_column": "表号", "value_column": "读数",
        "unit_column": "单位",
    }  # fmt: skip
    wide = guess_spec(("时间", "1#进线", "2#进线"), unit="kWh")
    assert wide["value_columns"][1] == {"column": "2#进线", "meter_code": "2#进线", "unit": "kWh"}
    path = _wide_csv(tmp_path / "a.csv", [("2025/03/01 08:00", "1", "2"), ("x", "1", "2")])
    table, chunk = preview_mapping(parse_spec(WIDE), path, POLICY.local_tz, rows=5)
    assert table.encoding == "gb18030" and chunk.frame.height == 2
    assert [(f.location.row, f.location.field) for f in chunk.faults] == [(2, "时间")]


def test_cli_save_preview_apply(
    settings: Settings, loaded: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kilnwatch.cli import app

    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.effective_database_url)
    path = _wide_csv(tmp_path / "march.csv", [("2025/03/01 08:00", "10", "1")])
    spec = tmp_path / "scada.json"
    spec.write_text(json.dumps(WIDE, ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    guess = runner.invoke(app, ["mapping", "guess", str(path)])
    assert guess.exit_code == 0 and json.loads(guess.output)["ts_column"] == "时间"
    saved = runner.invoke(app, ["mapping", "save", "scada", str(spec), "--source", "SCADA"])
    assert saved.exit_code == 0, saved.output
    listed = runner.invoke(app, ["mapping", "list"])
    assert "scada" in listed.output and "SCADA" in listed.output
    preview = runner.invoke(app, ["mapping", "preview", "scada", str(path)])
    assert preview.exit_code == 0 and "M-JN-E0" in preview.output
    applied = runner.invoke(app, ["mapping", "apply", "scada", str(path)])
    assert applied.exit_code == 0, applied.output
    assert "1 source rows -> 2 readings: 2 stored" in applied.output
    assert "encoding gb18030 (detected)" in applied.output
    spec.write_text(json.dumps({"ts_column": "时间"}), encoding="utf-8")
    bad = runner.invoke(app, ["mapping", "save", "broken", str(spec)])
    assert bad.exit_code == 2 and "value_column" in bad.output
