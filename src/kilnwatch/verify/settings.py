"""Building the verification settings: packaged defaults, a preset, a province override.

Defaults come from ``reference/verify_rules.csv`` (each row with its type, range, source and
rationale). Presets scale the parameters whose ``preset_scaling`` is ``tolerance`` by the
``verify.preset`` rows: ``default`` (as shipped), ``strict`` (tolerances halved) and
``lenient`` (doubled). A province overrides any parameter with a TOML file
(``[rules."verify.x.y"] parameter = value``) or a CSV file with the columns
``rule_code, parameter, value``. An override is validated against the registry of checks
(:mod:`kilnwatch.verify.checks`): an unknown check or parameter (with the nearest known name),
a value of the wrong type or out of range is an error naming the file, the place in it, the
check and the parameter; every problem of the file is listed at once.
"""

from __future__ import annotations

import csv
import difflib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from kilnwatch.errors import ConfigError, ReferenceDataError
from kilnwatch.reference.verify_rules import RuleParameter, load_verify_rules, parse_number
from kilnwatch.verify.check import GROUPS
from kilnwatch.verify.checks import CHECKS
from kilnwatch.verify.parameters import PRESETS, Preset, VerifySettings

PRESET_GROUP = "verify.preset"


@dataclass(frozen=True)
class OverrideValue:
    """One value of an override file, with where it stands in the file."""

    where: str  # e.g. "province.csv, row 3" or "province.toml"
    rule_code: str
    parameter: str
    value: object


def _nearest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _declared(rule_code: str) -> dict[str, RuleParameter]:
    """Parameters a province may set for ``rule_code`` (own and shared ones)."""
    return {p.parameter: p for p in CHECKS.parameters(rule_code)}


def _number(value: object) -> float | None:
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_number(value, "")
        except ReferenceDataError:
            return None
    return None


def _problem(item: OverrideValue) -> str | None:
    """Why an override value cannot be used, or None."""
    known_codes = (*CHECKS.codes, *GROUPS)
    if item.rule_code not in known_codes:
        return f"unknown rule {item.rule_code!r}{_nearest(item.rule_code, known_codes)}"
    declared = _declared(item.rule_code)
    if item.parameter not in declared:
        return (
            f"{item.rule_code}: unknown parameter {item.parameter!r}"
            f"{_nearest(item.parameter, declared)}; known: {', '.join(sorted(declared))}"
        )
    number = _number(item.value)
    parameter = declared[item.parameter]
    if number is None:
        return f"{item.rule_code}.{item.parameter} = {item.value!r}: not a number"
    problem = parameter.problem(number)
    if problem:
        return f"{item.rule_code}.{item.parameter} = {item.value!r}: {problem} ({parameter.type})"
    return None


def _toml_values(path: Path) -> list[OverrideValue]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"rules"})
    if unknown:
        raise ConfigError(f'{path.name}: unknown table(s) {", ".join(unknown)}; use [rules."…"]')
    out = []
    for code, values in data.get("rules", {}).items():
        if not isinstance(values, dict):
            raise ConfigError(f'{path.name}: [rules."{code}"] must be a table of parameter = value')
        out += [OverrideValue(path.name, code, name, value) for name, value in values.items()]
    return out


def _csv_values(path: Path) -> list[OverrideValue]:
    reader = csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines())
    missing = {"rule_code", "parameter", "value"} - set(reader.fieldnames or ())
    if missing:
        raise ConfigError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    return [
        OverrideValue(
            f"{path.name}, row {n}",
            (row["rule_code"] or "").strip(),
            (row["parameter"] or "").strip(),
            (row["value"] or "").strip(),
        )
        for n, row in enumerate(reader, start=2)
    ]


def read_override(path: Path) -> dict[str, dict[str, float]]:
    """Validated parameter values of a province's TOML or CSV override file."""
    if not path.exists():
        raise ConfigError(f"override file {path} not found")
    items = _toml_values(path) if path.suffix.lower() == ".toml" else _csv_values(path)
    problems = [f"{item.where}: {p}" for item in items if (p := _problem(item))]
    seen: set[tuple[str, str]] = set()
    for item in items:
        key = (item.rule_code, item.parameter)
        if key in seen:
            problems.append(f"{item.where}: {'.'.join(key)} is set twice")
        seen.add(key)
    if problems:
        raise ConfigError("invalid rule override:\n" + "\n".join(problems))
    out: dict[str, dict[str, float]] = {}
    for item in items:
        number = _number(item.value)
        assert number is not None  # validated above
        out.setdefault(item.rule_code, {})[item.parameter] = number
    return out


def _defaults() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for row in load_verify_rules():
        out.setdefault(row.rule_code, {})[row.parameter] = row.value
    return out


def _frozen(params: dict[str, dict[str, float]], preset: Preset) -> VerifySettings:
    frozen = {k: MappingProxyType(v) for k, v in params.items()}
    return VerifySettings(preset=preset, params=MappingProxyType(frozen))


def verify_settings(preset: Preset = "default", override: Path | None = None) -> VerifySettings:
    """Build the settings: packaged defaults, scaled by the preset, then the override file."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; use {', '.join(PRESETS)}")
    params = _defaults()
    if preset != "default":
        scale = _frozen(params, preset).value(PRESET_GROUP, f"{preset}_scale")
        for row in load_verify_rules():
            if row.preset_scaling == "tolerance":
                params[row.rule_code][row.parameter] *= scale
    if override is not None:
        for code, values in read_override(override).items():
            params.setdefault(code, {}).update(values)
    return _frozen(params, preset)
