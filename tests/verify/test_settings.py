"""Presets and province overrides: what is accepted, and the errors that name what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from kilnwatch.errors import ConfigError, ReferenceDataError
from kilnwatch.reference.verify_rules import load_verify_rules, parse_rule_table
from kilnwatch.verify.settings import read_override, verify_settings


def _toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "province.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        verify_settings(override=path)
    return str(info.value)


def test_a_valid_override_sets_own_and_shared_parameters(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        '[rules."verify.coal_balance.unmetered"]\nwindow_months = 6\nmin_gap_fraction = 0.03\n'
        '[rules."verify.meter.capped"]\nenabled = false\n',
    )
    settings = verify_settings(override=path)
    assert settings.count("verify.coal_balance.unmetered", "window_months") == 6
    assert settings.value("verify.coal_balance.unmetered", "min_gap_fraction") == 0.03
    assert settings.value("verify.fuel.invoice_vs_metered", "min_gap_fraction") == 0.02
    assert not settings.enabled("verify.meter.capped")


def test_a_misspelt_parameter_is_named_with_the_nearest_known_one(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[rules."verify.coal_balance.unmetered"]\nwindow_monthz = 6\n')
    message = _error(path)
    assert (
        "province.toml: verify.coal_balance.unmetered: unknown parameter 'window_monthz' "
        "(did you mean 'window_months'?)" in message
    )


def test_a_misspelt_or_renamed_rule_is_named(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[rules."verify.meter.intensity_shift"]\nmin_days = 3\n')
    assert (
        "unknown rule 'verify.meter.intensity_shift' (did you mean 'verify.meter.intensity_drop'?)"
        in _error(path)
    )


def test_a_shared_parameter_the_check_does_not_read_is_unknown_for_it(tmp_path: Path) -> None:
    path = _toml(
        tmp_path, '[rules."verify.electricity.invoice_vs_grid"]\naccuracy_multiplier = 2\n'
    )
    assert "unknown parameter 'accuracy_multiplier'" in _error(path)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("window_months = 2.5", "expected a whole number (int)"),
        ("window_months = 0", "below the minimum 1"),
        ("window_months = 24", "above the maximum 12"),
        ('window_months = "three"', "not a number"),
        ("enabled = 2", "expected a boolean"),
        ("min_gap_fraction = 1.5", "above the maximum 1"),
    ],
)
def test_wrong_types_and_ranges_are_refused(tmp_path: Path, line: str, reason: str) -> None:
    path = _toml(tmp_path, f'[rules."verify.coal_balance.unmetered"]\n{line}\n')
    message = _error(path)
    assert f"verify.coal_balance.unmetered.{line.split(' =')[0]}" in message
    assert reason in message


def test_a_csv_override_names_rows_and_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "province.csv"
    path.write_text(
        "rule_code,parameter,value\n"
        "verify.metered_vs_reported.energy_gap,min_gap_fraction,0.05\n"
        "verify.fuel.invoice_vs_meterd,enabled,0\n"
        "verify.timeseries.data_gap,min_missing_intervals,-1\n"
        "verify.metered_vs_reported.energy_gap,min_gap_fraction,0.06\n",
        encoding="utf-8",
    )
    message = _error(path)
    assert (
        "province.csv, row 3: unknown rule 'verify.fuel.invoice_vs_meterd' "
        "(did you mean 'verify.fuel.invoice_vs_metered'?)" in message
    )
    assert "province.csv, row 4: verify.timeseries.data_gap.min_missing_intervals" in message
    assert (
        "province.csv, row 5: verify.metered_vs_reported.energy_gap.min_gap_fraction is set twice"
        in message
    )
    path.write_text("rule_code,value\nverify.meter.capped,0\n", encoding="utf-8")
    assert "missing column(s) parameter" in _error(path)


def test_override_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        read_override(tmp_path / "nowhere.toml")
    assert "not valid TOML" in _error(_toml(tmp_path, "[rules\n"))
    assert "unknown table(s) rule" in _error(_toml(tmp_path, '[rule."verify.meter.capped"]\n'))


def test_presets_scale_the_tolerances_by_the_table() -> None:
    default, strict, lenient = (verify_settings(p) for p in ("default", "strict", "lenient"))
    code = "verify.submeter.ratio_shift"
    assert strict.value(code, "z_threshold") == 0.5 * default.value(code, "z_threshold")
    assert lenient.value(code, "z_threshold") == 2 * default.value(code, "z_threshold")
    assert strict.value(code, "min_days") == default.value(code, "min_days")
    with pytest.raises(ConfigError, match="unknown preset"):
        verify_settings("loose")  # type: ignore[arg-type]


def test_the_packaged_table_is_checked() -> None:
    assert all(p.source and p.rationale for p in load_verify_rules())
    row = {
        "rule_code": "verify.x.y", "parameter": "n", "value": "1.5", "type": "int", "unit": "1",
        "minimum": "", "maximum": "", "preset_scaling": "none", "source": "s",
        "confidence": "low", "rationale": "r",
    }  # fmt: skip
    with pytest.raises(ReferenceDataError, match="row 2: value 1.5: expected a whole number"):
        parse_rule_table([row], "t.csv")
    with pytest.raises(ReferenceDataError, match="row 3: verify.x.y.n is declared twice"):
        parse_rule_table([{**row, "value": "1"}] * 2, "t.csv")
    with pytest.raises(ReferenceDataError, match="confidence"):
        parse_rule_table([{**row, "value": "1", "confidence": "sure"}], "t.csv")
