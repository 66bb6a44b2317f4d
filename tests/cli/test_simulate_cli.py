from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kilnwatch.cli.simulate import app

runner = CliRunner()


def test_generate_writes_a_province(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "--seed",
            "5",
            "--enterprises",
            "4",
            "--start",
            "2025-02-01",
            "--days",
            "2",
            "--interval",
            "30min",
            "--out",
            str(tmp_path),
            "--format",
            "csv",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 enterprises" in result.output
    assert (tmp_path / "readings.csv").exists() and not (tmp_path / "readings.parquet").exists()
    lines = (tmp_path / "readings.csv").read_text().splitlines()
    assert lines[1].split(",")[1].startswith("2025-02-01T00:00:00+08:00")
    assert any(",2025-02-01T00:30:00+08:00," in line for line in lines)


def test_generate_shows_progress(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--enterprises", "2", "--days", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "readings" in result.output


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    assert runner.invoke(app, ["--days", "1"]).exit_code != 0  # no --out
    bad_interval = runner.invoke(app, ["--interval", "7min", "--out", str(tmp_path)])
    assert bad_interval.exit_code != 0
    assert runner.invoke(app, ["--format", "xml", "--out", str(tmp_path)]).exit_code != 0
    assert runner.invoke(app, ["stream", "--to", "gopher://x:1"]).exit_code != 0


def test_stream_reports_errors_when_nobody_listens(tmp_path: Path) -> None:
    runner.invoke(app, ["--enterprises", "1", "--days", "1", "--out", str(tmp_path), "--quiet"])
    result = runner.invoke(
        app, ["stream", "--to", "http://127.0.0.1:9", "--from", str(tmp_path), "--limit", "5"]
    )
    assert result.exit_code == 1
    assert "errors" in result.output
