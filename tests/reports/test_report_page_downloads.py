"""Every report of the catalogue, downloaded through the buttons of the pages (the /reports
page; the city page for a city's report, the enterprise page for an enterprise's) by a
signed-in user, opens with the
figures of the API for the same scope and period: the XLSX read back with openpyxl cell by
cell against ``/api/v1/reports/{name}/data``, the PDF through ``pdftotext`` against the same
figures as they are displayed."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from report_data import JINAN
from sqlalchemy.orm import Session

from kilnwatch.reports.catalogue import REPORTS
from kilnwatch.reports.labels import display

PASSWORD = "long-password-1"
PERIODS = {"weekly": "2025-W10", "inspections": "2025H1", "programme": "2025"}
"""The period a report is asked for on its page (the others: the month ``2025-03``)."""
NUMERIC = ("integer", "number", "fraction")


def _sign_in(client: TestClient, user: str) -> None:
    page = client.get("/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post("/signin", data={"username": user, "password": PASSWORD,
                                     "csrf_token": token[1]}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text


def _buttons(html: str, name: str) -> dict[str, str]:
    """The page's download links of report ``name``, by format."""
    found = {}
    for href in re.findall(r'href="(/api/v1/reports/' + name + r'\?[^"]+)"', html):
        href = href.replace("&amp;", "&")
        found[dict(parse_qsl(urlsplit(href).query))["format"]] = href
    return found


def _data_url(href: str) -> str:
    """The API's figures of the file a button gives: same report, scope and period."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "format"]
    return f"{parts.path}/data?" + "&".join(f"{k}={v}" for k, v in query)


def _xlsx_matches(content: bytes, doc: dict[str, Any]) -> int:
    """Compare every cell of every table sheet with the document; returns numbers compared."""
    wb = load_workbook(io.BytesIO(content))
    tables = [t for s in doc["sections"] for t in s["tables"]]
    sheets = wb.worksheets[1:]  # after the cover: one sheet per table, in order
    assert len(sheets) == len(tables)
    compared = 0
    for ws, table in zip(sheets, tables, strict=True):
        rows = list(ws.iter_rows(min_row=3, max_row=2 + len(table["rows"]), values_only=True))
        assert len(rows) == len(table["rows"]), table["key"]
        for got, want in zip(rows, table["rows"], strict=True):
            for j, col in enumerate(table["columns"]):
                value, cell = want[col["key"]], got[j]
                if col["kind"] in NUMERIC and not isinstance(value, bool):
                    assert cell == pytest.approx(value), (table["key"], col["key"])
                    compared += value is not None
                elif isinstance(value, dict) and "zh" in value:
                    assert cell == value["zh"], (table["key"], col["key"])
                elif value is None and col["kind"] != "code":
                    assert cell is None, (table["key"], col["key"])
    cover = [c for row in wb.worksheets[0].iter_rows(values_only=True) for c in row]
    for fact in doc["facts"]:
        if isinstance(fact["value"], int | float) and not isinstance(fact["value"], bool):
            assert any(isinstance(c, int | float) and c == pytest.approx(fact["value"])
                       for c in cover), fact  # fmt: skip
            compared += 1
    return compared


def _pdf_matches(content: bytes, doc: dict[str, Any], tmp_path: Path) -> int:
    """Every figure of the document's tables appears, as displayed, in the PDF's text."""
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    run = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    text = run.stdout
    assert doc["title"]["zh"] in text
    compared = 0
    for table in (t for s in doc["sections"] for t in s["tables"]):
        for row in table["rows"]:
            for col in table["columns"]:
                value = row[col["key"]]
                if col["kind"] in NUMERIC and isinstance(value, int | float):
                    shown = display(value, col["kind"], "zh-CN", doc["timezone"],
                                    digits=col["digits"])  # fmt: skip
                    assert shown in text, (table["key"], col["key"], shown)
                    compared += 1
    return compared


def test_every_report_downloaded_from_its_page_has_the_apis_figures(
    browser: TestClient, province: Session, tmp_path: Path
) -> None:
    client = browser
    _sign_in(client, "prov")
    checked: dict[str, tuple[int, int]] = {}
    for name, spec in REPORTS.items():
        period = PERIODS.get(name, "2025-03")
        if spec.needs_enterprise:
            ent = client.get(f"/api/v1/enterprises?uscc={JINAN}").json()
            items = ent["items"] if isinstance(ent, dict) else ent
            page = client.get(f"/enterprises/{items[0]['id']}?period={period}").text
        elif spec.needs_city:  # a city's report: on the city page
            page = client.get(f"/regions/370100?period={period}").text
        else:
            page = client.get(f"/reports?period={period}").text
        buttons = _buttons(page, name)
        assert set(buttons) == set(spec.formats), (name, buttons)
        doc = client.get(_data_url(buttons["xlsx"]))
        assert doc.status_code == 200, (name, doc.text)
        numbers = [0, 0]
        for fmt, href in buttons.items():
            r = client.get(href)
            assert r.status_code == 200, (name, fmt, r.text[:300])
            if fmt == "xlsx":
                numbers[0] = _xlsx_matches(r.content, doc.json())
            elif fmt == "pdf":
                numbers[1] = _pdf_matches(r.content, doc.json(), tmp_path)
        checked[name] = (numbers[0], numbers[1])
    print("figures compared (xlsx, pdf):", checked)
    assert set(checked) == set(REPORTS)
    # the figures of the province's monthly and enterprise reports are there to compare
    assert checked["monthly"][0] > 50 and checked["monthly"][1] > 50
    assert checked["enterprise"][0] > 5 and checked["enterprise"][1] > 5
