"""Files as Chinese users save them: UTF-8 with or without BOM, GB18030/GBK, UTF-16 (Excel's
"Unicode text", TAB-separated), detected and stated; CSV faults named by file, row and field."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.config import Settings
from kilnwatch.errors import InputError
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.tables import decode_text, named_encoding, read_table
from kilnwatch.ingest.tables.text import detect_encoding, transcode_to_utf8
from kilnwatch.store.models import Enterprise, Reading
from zone import POLICY

REGISTRY = Path(__file__).parents[1] / "fixtures" / "registry"
T0 = datetime(2025, 3, 1, tzinfo=UTC)
ENTERPRISES = (
    "uscc,name,region_code,industry,status\n"
    "91370100MA3C4XY21E,济南示例水泥有限公司（二期）,370112,cement,operating\n"
)


def _readings_text(n: int, separator: str = ",") -> str:
    lines = [separator.join(("meter_code", "ts", "value", "unit", "flag"))]
    for i in range(n):
        ts = (T0 + timedelta(hours=i)).isoformat()
        lines.append(separator.join(("M-JN-C0", ts, f"{i + 0.5}", "t", "")))
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("期,1".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "期,1".encode(), "utf-8-sig"),
        ("期,1".encode("gb18030"), "gb18030"),
        ("企业名称,1".encode("gbk"), "gb18030"),
        ("期,1".encode("utf-16"), "utf-16"),
        ("uscc,name".encode("utf-16-le"), "utf-16-le"),
        ("uscc,name".encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_detected_encodings(data: bytes, expected: str) -> None:
    assert detect_encoding(data, "a.csv").name == expected
    text, used = decode_text(data, "a.csv")
    assert used == expected and text.lstrip("\ufeff") in ("期,1", "企业名称,1", "uscc,name")


def test_undecodable_bytes_and_a_wrong_named_encoding_are_located() -> None:
    with pytest.raises(InputError, match=r"x.csv: not text in UTF-8, GB18030/GBK or UTF-16"):
        detect_encoding(b"\x81\x30\xff\xfe\x00\x81", "x.csv")
    data = "a,b\n1,2\n3,期\n".encode("gb18030")
    with pytest.raises(InputError) as info:
        decode_text(data, "x.csv", named_encoding("utf-8"))
    assert info.value.location.row == 2
    assert "not utf-8 text in line 3" in info.value.reason and "--encoding" in info.value.reason
    with pytest.raises(InputError, match="unknown encoding 'latin-9'"):
        named_encoding("latin-9")
    assert named_encoding("GBK").name == "gb18030"


def test_transcoding_in_blocks_keeps_characters_cut_between_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kilnwatch.ingest.tables.text as text

    monkeypatch.setattr(text, "TRANSCODE_BYTES", 7)  # cuts two-byte characters in half
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(ENTERPRISES.encode("gb18030"))
    transcode_to_utf8(src, detect_encoding(src.read_bytes(), "in.csv"), out)
    assert out.read_text(encoding="utf-8") == ENTERPRISES
    src.write_bytes(ENTERPRISES.encode("gb18030") + b"\n\xff\xff\n")
    with pytest.raises(InputError) as info:
        transcode_to_utf8(src, named_encoding("gb18030"), out)
    assert info.value.location.row == 3 and "line 4" in info.value.reason


def test_registry_in_gbk_and_in_excel_unicode_text(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    path.write_bytes(ENTERPRISES.encode("gbk"))
    report = import_registry(session, path)
    assert report.encodings == {"enterprises.csv": "gb18030 (detected)"}
    names = session.scalars(select(Enterprise.name)).all()
    assert names == ["济南示例水泥有限公司（二期）"]
    session.rollback()
    excel = tmp_path / "enterprises.txt"  # Excel "Unicode text": UTF-16 LE + BOM, TAB
    excel.write_bytes(ENTERPRISES.replace(",", "\t").encode("utf-16"))
    table = read_table(excel)
    assert table.columns == ("uscc", "name", "region_code", "industry", "status")
    assert (table.encoding, table.rows[0]["name"]) == ("utf-16", "济南示例水泥有限公司（二期）")


def test_unterminated_quote_names_file_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    path.write_text(ENTERPRISES + '91370200163562681G,"青岛,370211,coking,operating\n')
    with pytest.raises(InputError) as info:
        read_table(path)
    where = info.value.location
    assert (where.file, where.row, where.field) == ("enterprises.csv", 2, "name")
    assert "unterminated quote" in info.value.reason


@pytest.fixture
def loaded(session: Session) -> Session:
    import_registry(session, REGISTRY)
    session.commit()
    return session


@pytest.mark.parametrize(
    ("encoding", "separator", "named", "stated"),
    [
        ("utf-8-sig", ",", None, "utf-8-sig (detected)"),
        # readings are ASCII: GB18030 bytes are UTF-8 bytes, and detected so
        ("gb18030", ",", None, "utf-8 (detected)"),
        ("gb18030", ";", "gbk", "gb18030 (as named)"),
        ("utf-16", "\t", None, "utf-16 (detected)"),
        ("utf-16-le", "\t", None, "utf-16-le (detected)"),
    ],
)
def test_readings_file_in_each_encoding(
    loaded: Session, tmp_path: Path, encoding: str, separator: str, named: str | None, stated: str
) -> None:
    path = tmp_path / "readings.csv"
    path.write_bytes(_readings_text(30, separator).encode(encoding))
    forced = named_encoding(named) if named else None
    report = import_readings_file(loaded, path, policy=POLICY, chunk_rows=7, encoding=forced)
    assert (report.rows, report.accepted, report.encoding) == (30, 30, stated)
    values = loaded.scalars(select(Reading.value).order_by(Reading.ts)).all()
    assert values[:2] == [0.5, 1.5] and len(values) == 30


def test_a_workbook_is_refused_with_the_way_to_import_it(loaded: Session, tmp_path: Path) -> None:
    path = tmp_path / "readings.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="mapping apply"):
        import_readings_file(loaded, path, policy=POLICY)


def test_readings_parse_fault_is_located_and_stores_nothing(
    loaded: Session, tmp_path: Path
) -> None:
    path = tmp_path / "readings.csv"
    good = _readings_text(3).splitlines(keepends=True)
    bad = 'M-JN-C0,"2025-03-02T00:00:00+00:00,2,t,\r\n'
    path.write_bytes("".join([*good, bad, *good[1:]]).encode("gb18030"))
    with pytest.raises(InputError) as info:
        import_readings_file(loaded, path, policy=POLICY)
    loaded.rollback()
    where = info.value.location
    assert (where.file, where.row, where.field) == (str(path), 4, "ts")
    assert "unterminated quote" in info.value.reason
    assert info.value.code == "ingest.malformed"
    assert loaded.scalar(select(func.count()).select_from(Reading)) == 0


@pytest.mark.parametrize("beyond_head", [False, True])
def test_a_file_detected_as_utf8_with_other_bytes_further_on_is_located(
    loaded: Session, tmp_path: Path, beyond_head: bool
) -> None:
    # the encoding is detected from the file's head (SAMPLE_BYTES); bytes that are not UTF-8
    # further on, or a character cut at the end, were a UnicodeDecodeError escaping the
    # importer (found by the long fuzz form)
    n = 30_000 if beyond_head else 3  # 30 000 rows: about 1.5 MiB, beyond the sample
    path = tmp_path / "readings.csv"
    tail = b"M-JN-C0,2025-03-02T00:\xff0:00+00:00,2,t,\r\n" if beyond_head else b"\xc2"
    path.write_bytes(_readings_text(n).encode() + tail)
    with pytest.raises(InputError) as info:
        import_readings_file(loaded, path, policy=POLICY)
    loaded.rollback()
    assert info.value.location.file == str(path)
    if beyond_head:
        assert info.value.location.row == n + 1
        assert f"not utf-8 text in line {n + 2}" in info.value.reason
    else:
        assert "ends inside a utf-8 character" in info.value.reason
    assert info.value.code == "ingest.malformed"
    assert loaded.scalar(select(func.count()).select_from(Reading)) == 0


def test_cli_states_and_forces_the_encoding(
    settings: Settings, loaded: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kilnwatch.cli.imports import app

    monkeypatch.setenv("KILNWATCH_DATABASE_URL", settings.effective_database_url)
    path = tmp_path / "readings.csv"
    path.write_bytes(_readings_text(4).encode("gb18030"))
    runner = CliRunner()
    ok = runner.invoke(app, ["readings", str(path), "--encoding", "gbk"])
    assert ok.exit_code == 0, ok.output
    assert "encoding gb18030 (as named)" in ok.output and "4 stored" in ok.output
    bad = runner.invoke(app, ["readings", str(path), "--encoding", "ebcdic"])
    assert bad.exit_code == 2 and "unknown encoding" in bad.output
    registry = tmp_path / "enterprises.csv"
    registry.write_bytes(ENTERPRISES.replace("（二期）", "").encode("gb18030"))
    done = runner.invoke(app, ["registry", str(registry)])
    assert done.exit_code == 0, done.output
    assert "enterprises.csv: encoding gb18030 (detected)" in done.output
