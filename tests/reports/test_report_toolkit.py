"""The report toolkit: one document, rendered to XLSX, PDF and CSV in Chinese and English."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from kilnwatch.errors import InputError
from kilnwatch.reports.document import Chart, Column, Fact, ReportDocument, Section, Table, Text
from kilnwatch.reports.labels import cell_text, header
from kilnwatch.reports.render import document_json, render
from kilnwatch.reports.svg import chart_svg, nice_step

LEVELS = Table(
    "levels",
    Text("分城市能效水平", "Efficiency levels by city"),
    (
        Column("city", kind="text"),
        Column("energy_tce", unit="tce"),
        Column("class", kind="code", codes="class"),
        Column("share_at_benchmark_fraction", kind="fraction"),
        Column("units", kind="integer"),
    ),
    (
        (Text("济南市", "Jinan"), 12345.678, "benchmark", 0.4, 3),
        (Text("淄博市", "Zibo"), 2500.0, "below_baseline", 0.125, 1),
        (Text("青岛市", "Qingdao"), None, None, None, 0),
    ),
    chart=Chart("bar", "chart.share_at_benchmark", "city", ("share_at_benchmark_fraction",),
                reference=0.3, reference_label="chart.target_30"),
    notes=(Text("注：测试", "Note: test"),),
)  # fmt: skip
DOC = ReportDocument(
    name="sample",
    title=Text("示例报表", "Sample report"),
    scope=Text("山东省", "Shandong"),
    period="2025-03",
    generated_at=datetime(2025, 4, 1, 0, 30, tzinfo=UTC),  # 08:30 in Asia/Shanghai
    timezone="Asia/Shanghai",
    sections=(Section("s", Text("第一部分", "Part one"), (LEVELS,)),),
    facts=(Fact("col.energy_tce", 14845.678, kind="number", unit="tce"),),
    notes=(Text("说明一", "note one"),),
    sources=(Text("来源一", "source one"),),
)


def test_headers_and_cells_in_both_languages() -> None:
    energy, cls, share = LEVELS.columns[1], LEVELS.columns[2], LEVELS.columns[3]
    assert header(energy, "zh-CN") == "综合能耗（吨标准煤）"
    assert header(energy, "en") == "Energy (tce)"
    assert header(share, "zh-CN") == "标杆水平产能占比（%）"
    assert cell_text("below_baseline", cls, "zh-CN", "Asia/Shanghai") == "低于基准水平"
    assert cell_text("below_baseline", cls, "en", "Asia/Shanghai") == "below baseline"
    assert cell_text(None, cls, "zh-CN", "Asia/Shanghai") == "未评价"
    assert cell_text(12345.678, energy, "zh-CN", "Asia/Shanghai") == "12,345.7"
    assert cell_text(0.125, share, "en", "Asia/Shanghai") == "12.5%"


def test_xlsx_has_typed_cells_formats_frozen_header_chart_and_cover() -> None:
    wb = load_workbook(io.BytesIO(render(DOC, "xlsx").content))
    assert wb.sheetnames == ["封面", "分城市能效水平"]
    cover = wb["封面"]
    cells = {cover.cell(r, 1).value: cover.cell(r, 2).value for r in range(1, 12)}
    assert cells["范围"] == "山东省" and cells["统计期"] == "2025-03"
    assert cells["生成时间"] == "2025-04-01 08:30 (Asia/Shanghai)"
    assert cells["综合能耗"] == pytest.approx(14845.678)
    ws = wb["分城市能效水平"]
    assert [c.value for c in ws[2]][:5] == [
        "城市", "综合能耗（吨标准煤）", "能效水平", "标杆水平产能占比（%）", "生产单元数",
    ]  # fmt: skip
    assert ws["B3"].value == pytest.approx(12345.678) and ws["B3"].number_format == "#,##0.0"
    assert ws["C3"].value == "标杆水平" and ws["C4"].value == "低于基准水平"
    assert ws["C5"].value == "未评价"
    assert ws["D4"].value == 0.125 and ws["D4"].number_format == "0.0%"
    assert ws["E3"].number_format == "#,##0"
    assert ws.freeze_panes == "B3"
    assert ws.column_dimensions["B"].width >= 10
    assert len(ws._charts) == 1  # a native Excel chart (bar + target line)
    assert ws["F2"].value == "2025年目标 30%" and ws["F3"].value == 0.3
    assert ws["A7"].value == "注：测试"
    en = load_workbook(io.BytesIO(render(DOC, "xlsx", "en").content))
    assert en.sheetnames == ["Cover", "Efficiency levels by city"]
    assert en["Efficiency levels by city"]["C4"].value == "below baseline"


def test_pdf_text_has_chinese_labels_figures_and_chart(tmp_path) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render(DOC, "pdf").content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in ("示例报表", "山东省", "2025-04-01 08:30", "济南市", "12,345.7", "低于基准水平",
                     "40.0%", "2025年目标 30%", "14,845.7 吨标准煤", "来源一"):  # fmt: skip
        assert expected in text, expected


def test_svg_chart_scales_and_escapes() -> None:
    svg = chart_svg(LEVELS, "zh-CN", "Asia/Shanghai")
    assert svg.startswith("<svg") and svg.count("<rect") == 3 + 1  # bars and the legend key
    assert "stroke-dasharray" in svg and "济南市" in svg and ">40%<" in svg
    assert nice_step(0.4) == pytest.approx(0.1) and nice_step(12345) == 2500
    assert chart_svg(Table("t", "x", LEVELS.columns, ()), "en", "UTC") == ""


def test_csv_only_for_one_table() -> None:
    content = render(DOC, "csv", "en").content
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "City,Energy (tce),Efficiency level,Capacity share at benchmark (%),Units"
    assert lines[2] == 'Zibo,"2,500.0",below baseline,12.5%,1'
    two = ReportDocument(**{**DOC.__dict__, "sections": (Section("a", "x", (LEVELS, LEVELS)),)})
    with pytest.raises(InputError, match="CSV holds one"):
        render(two, "csv")


def test_document_json_keeps_codes_and_both_languages() -> None:
    data = document_json(DOC)
    [table] = data["sections"][0]["tables"]
    assert table["rows"][1] == {
        "city": {"zh": "淄博市", "en": "Zibo"}, "energy_tce": 2500.0, "class": "below_baseline",
        "share_at_benchmark_fraction": 0.125, "units": 1,
    }  # fmt: skip
    assert table["columns"][1]["header"] == {"zh": "综合能耗", "en": "Energy"}


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        Table("t", "x", LEVELS.columns, (("only",),))
    with pytest.raises(ValueError, match="chart names a column"):
        Table("t", "x", LEVELS.columns[:1], (), chart=LEVELS.chart)
    with pytest.raises(InputError, match="unknown format"):
        render(DOC, "docx")
