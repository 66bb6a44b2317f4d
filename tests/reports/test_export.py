"""Bulk exports: streamed CSV and Parquet of readings, rollups and results, by scope and range."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from report_data import ADMIN, QUANTITIES, ZIBO
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kilnwatch.cli import app
from kilnwatch.config import Settings
from kilnwatch.errors import InputError
from kilnwatch.ingest.pipeline import ingest_readings
from kilnwatch.ingest.validate import RawReading
from kilnwatch.reports.export import ExportFilter, export_rows
from kilnwatch.reports.export_writers import csv_stream, parquet_stream
from zone import POLICY

MARCH_2025 = (datetime(2025, 2, 28, 16, tzinfo=UTC), datetime(2025, 3, 31, 16, 30, tzinfo=UTC))
ZIBO_METERS = sorted(m for m in QUANTITIES if m.startswith("M-ZB"))


def test_cli_exports_a_city_as_csv_and_parquet(
    settings: Settings, province: Session, tmp_path: Path
) -> None:
    env = {"KILNWATCH_DATABASE_URL": settings.effective_database_url}
    out = tmp_path / "zibo.csv"
    base = ["export", "readings", "--city", "3703", "--start", "2025-03-01", "--end", "2025-04-02"]
    r = CliRunner().invoke(app, [*base, "--out", str(out)], env=env)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 31 * len(ZIBO_METERS)  # one per day and meter, 2 Mar .. 1 Apr
    assert {r["meter_code"] for r in rows} == set(ZIBO_METERS)
    first = next(r for r in rows if r["meter_code"] == "M-ZB-E0")
    assert first == first | {
        "enterprise_uscc": ZIBO, "region_code": "370305", "industry": "steel",
        "carrier": "electricity", "unit": "kWh", "version": "1", "source": "file",
        "ts": "2025-03-01T16:00:00+00:00",
    }  # fmt: skip
    assert float(first["value"]) == pytest.approx(6_200_000 / 31)
    parquet = tmp_path / "zibo.parquet"
    r = CliRunner().invoke(app, [*base, "--format", "parquet", "--out", str(parquet)], env=env)
    assert r.exit_code == 0, r.output
    table = pq.read_table(parquet)
    assert table.num_rows == len(rows)
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert table.column("value").to_pylist() == [float(r["value"]) for r in rows]
    r = CliRunner().invoke(app, [*base[:-2], "--end", "2025-02-01", "--out", str(out)], env=env)
    assert r.exit_code == 2 and "end must be after start" in r.output and not out.exists()


def test_latest_version_only_and_chunked_writers_agree(province: Session) -> None:
    ts = datetime(2025, 3, 5, 16, tzinfo=UTC)
    ingest_readings(province, [RawReading("M-ZB-C0", ts, 9999.0, "")], "manual", "fix",
                    policy=POLICY, now=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    province.commit()
    f = ExportFilter(*MARCH_2025, meter_code="M-ZB-C0")
    small = export_rows(province, ADMIN, "readings", f, chunk_rows=7)
    table = pq.read_table(io.BytesIO(b"".join(parquet_stream(small))))
    assert (
        pq.ParquetFile(
            io.BytesIO(
                b"".join(parquet_stream(export_rows(province, ADMIN, "readings", f, chunk_rows=7)))
            )
        ).num_row_groups
        == 5
    )
    assert table.num_rows == 31
    corrected = [r for r in table.to_pylist() if r["ts"] == ts]
    assert [(r["value"], r["version"], r["source"]) for r in corrected] == [(9999.0, 2, "manual")]
    one_chunk = b"".join(csv_stream(export_rows(province, ADMIN, "readings", f)))
    chunked = b"".join(csv_stream(export_rows(province, ADMIN, "readings", f, chunk_rows=7)))
    assert one_chunk == chunked and one_chunk.count(b"\n") == 32


def test_rollups_findings_and_credibility(province: Session) -> None:
    f = ExportFilter(*MARCH_2025, region="370300", grain="day")
    rows = list(csv.DictReader(io.StringIO(b"".join(
        csv_stream(export_rows(province, ADMIN, "rollups", f))).decode())))  # fmt: skip
    assert len(rows) == 31 * len(ZIBO_METERS) and {r["grain"] for r in rows} == {"day"}
    coke = [r for r in rows if r["meter_code"] == "M-ZB-C0"]
    assert sum(float(r["sum"]) for r in coke) == pytest.approx(70_000) and coke[0]["unit"] == "t"
    whole = ExportFilter(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC))
    findings = list(csv.DictReader(io.StringIO(b"".join(
        csv_stream(export_rows(province, ADMIN, "findings", whole))).decode())))  # fmt: skip
    assert len(findings) == 6 and {r["status"] for r in findings} >= {"dismissed", "closed"}
    scores = b"".join(csv_stream(export_rows(province, ADMIN, "credibility", whole))).decode()
    assert scores.splitlines()[1].startswith("91370100MA3C4XY21E,370112,cement,2025-03,82.5,")
    with pytest.raises(InputError, match="unknown export"):
        export_rows(province, ADMIN, "meters", whole)
    with pytest.raises(InputError, match="region code prefix"):
        ExportFilter(*MARCH_2025, region="37a")


def test_api_streams_in_the_callers_scope(client: TestClient, province: Session) -> None:
    token = client.post(
        "/api/v1/auth/token", data={"username": "jn", "password": "long-password-1"}
    ).json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    start, end = (t.isoformat().replace("+00:00", "Z") for t in MARCH_2025)
    r = client.get(f"/api/v1/exports/readings?start={start}&end={end}&format=parquet", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(r.content))
    assert set(table.column("enterprise_uscc").to_pylist()) == {"91370100MA3C4XY21E"}
    r = client.get(f"/api/v1/exports/readings?start={start}&end={end}&city=3703", headers=h)
    assert r.status_code == 200 and r.text.count("\n") == 1  # Zibo is outside Jinan: header only
    r = client.get(f"/api/v1/exports/rollups?start={start}&end={end}&grain=month", headers=h)
    assert [line.split(",")[0] for line in r.text.splitlines()[1:]] == ["M-JN-C0", "M-JN-K1"]
    naive = (MARCH_2025[0] + timedelta(0)).replace(tzinfo=None).isoformat()
    r = client.get(f"/api/v1/exports/readings?start={naive}&end={end}", headers=h)
    assert r.status_code == 422
