"""The table-import toolkit: files of a folder, text encodings, typed fields, duplicate keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.formats import EXTERNAL_SOURCE_FORMATS, FileFormat
from kilnwatch.ingest.tables import (
    Record,
    TableImportReport,
    TableKind,
    TableRow,
    decode_text,
    import_tables,
    read_table,
    table_files,
)

PRICES = "period,item,price_cny_per_unit,unit\n"


def test_folder_files_in_kind_order_and_kind_checks(tmp_path: Path) -> None:
    (tmp_path / "market_prices.csv").write_text(PRICES, encoding="utf-8")
    (tmp_path / "logistics.xlsx").write_bytes(b"")
    found = table_files(tmp_path, EXTERNAL_SOURCE_FORMATS, "external source")
    assert [k for k, _ in found] == ["logistics", "market_prices"]
    with pytest.raises(InputError) as info:
        table_files(tmp_path / "market_prices.csv", EXTERNAL_SOURCE_FORMATS, "x", "invoices")
    assert info.value.location.field == "kind"
    (tmp_path / "march.csv").write_text(PRICES, encoding="utf-8")
    with pytest.raises(InputError, match="cannot tell the external source kind"):
        table_files(tmp_path / "march.csv", EXTERNAL_SOURCE_FORMATS, "external source")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"no external source files \(market_prices\) found"):
        table_files(empty, {"market_prices": None}, "external source")


def test_utf8_with_and_without_bom_and_a_located_refusal(tmp_path: Path) -> None:
    assert decode_text("期,1".encode(), "a.csv") == ("期,1", "utf-8")
    assert decode_text("\ufeff期,1".encode(), "a.csv") == ("期,1", "utf-8-sig")
    path = tmp_path / "market_prices.csv"
    path.write_bytes(("\ufeff" + PRICES + "2025-03,coke,1,t\n").encode())
    table = read_table(path)
    assert (table.columns[0], table.encoding, table.rows[0]["item"]) == (
        "period",
        "utf-8-sig",
        "coke",
    )
    path.write_bytes(b"\x81\x30\xff\xfe\x00\x81" + PRICES.encode())
    with pytest.raises(InputError, match="market_prices.csv: not text in UTF-8, GB18030"):
        read_table(path)


def test_typed_fields_collect_every_fault() -> None:
    row = TableRow("f.csv", 3, {"q": "-1", "n": "x", "d": "", "m": "2025-13", "u": "furlong"})
    assert row.positive("q") == -1.0
    assert row.non_negative("n") == 0.0
    assert row.date("d", required=True) is None
    row.month("m")
    row.unit("u")
    assert [e.message for e in row.errors] == [
        "f.csv, row 3, field 'q': must be a positive number, got -1",
        "f.csv, row 3, field 'n': 'x' is not a number",
        "f.csv, row 3, field 'd': is required",
        "f.csv, row 3, field 'm': '2025-13' is not a month (YYYY-MM)",
        "f.csv, row 3, field 'u': unknown unit 'furlong' (see reference/units.csv)",
    ]


def test_duplicate_keys_and_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "things.csv").write_text("code,n\nA,1\nB,2\nA,3\n", encoding="utf-8")
    fmt = FileFormat("things", ("code", "n"))

    def check(row: TableRow) -> Record:
        return {"code": row.key("code"), "n": row.positive("n")}

    kinds = {"things": TableKind(fmt, check, ("code",), "code")}
    stored: list[Record] = []

    def store(kind: str, records: list[Record]) -> tuple[int, int]:
        stored.extend(records)
        return len(records), 0

    with pytest.raises(ImportRejected) as info:
        import_tables(tmp_path, kinds, "test", store, TableImportReport())
    assert [e.message for e in info.value.errors] == [
        "things.csv, row 3, field 'code': duplicate of row 1"
    ]
    assert stored == []
    report = import_tables(tmp_path, kinds, "test", store, TableImportReport(), skip_invalid=True)
    assert report.created == {"things": 2} and [r.row["n"] for r in report.rejected] == ["3"]
    assert [r["code"] for r in stored] == ["A", "B"]
