"""Frozen verification settings: rule parameters with named presets and a province override.

Defaults come from ``reference/verify_rules.csv`` (each row with a rationale). A province
overrides any of them with a TOML file (``[rules."verify.x.y"] parameter = value``) or a CSV
file with the columns ``rule_code, parameter, value``. Presets scale the tolerances:
``default`` (as shipped), ``strict`` (tolerances halved) and ``lenient`` (doubled).
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kilnwatch.errors import ConfigError, ReferenceDataError
from kilnwatch.reference.verify_rules import load_verify_rules, parse_rule_rows

Preset = Literal["default", "strict", "lenient"]
#: Parameters that widen the tolerance when larger; presets scale only these.
TOLERANCE_PARAMETERS = frozenset(
    {
        "accuracy_multiplier",
        "min_gap_fraction",
        "tolerance_fraction",
        "z_threshold",
        "min_shift_fraction",
        "min_elevation_fraction",
    }
)
PRESET_SCALE: Mapping[str, float] = MappingProxyType(
    {"default": 1.0, "strict": 0.5, "lenient": 2.0}
)


class VerifySettings(BaseModel):
    """Every tunable of verification; ``params[rule_code][parameter] -> value``."""

    model_config = ConfigDict(frozen=True)

    preset: Preset = "default"
    params: Mapping[str, Mapping[str, float]] = Field(default_factory=dict)

    def value(self, rule_code: str, parameter: str) -> float:
        """A rule parameter, falling back to the common ``verify`` row."""
        for code in (rule_code, "verify"):
            if parameter in self.params.get(code, {}):
                return float(self.params[code][parameter])
        raise ConfigError(f"no parameter {parameter!r} for rule {rule_code}")

    def enabled(self, rule_code: str) -> bool:
        return bool(self.params.get(rule_code, {}).get("enabled", 1.0))


def _defaults() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for row in load_verify_rules():
        out.setdefault(row.rule_code, {})[row.parameter] = row.value
    return out


def read_override(path: Path) -> dict[str, dict[str, float]]:
    """Rule parameters from a TOML or CSV override file."""
    if not path.exists():
        raise ConfigError(f"override file {path} not found")
    if path.suffix.lower() == ".toml":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = data.get("rules", {})
        try:
            return {
                code: {k: float(v) for k, v in values.items()} for code, values in rules.items()
            }
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f'{path.name}: every [rules."code"] value must be a number') from exc
    try:
        rows = parse_rule_rows(
            [dict(r) for r in csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines())],
            path.name,
        )
    except ReferenceDataError as exc:
        raise ConfigError(str(exc)) from exc
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        out.setdefault(r.rule_code, {})[r.parameter] = r.value
    return out


def verify_settings(preset: Preset = "default", override: Path | None = None) -> VerifySettings:
    """Build the settings: packaged defaults, scaled by the preset, then the override file."""
    params = _defaults()
    scale = PRESET_SCALE[preset]
    for values in params.values():
        for name in values:
            if name in TOLERANCE_PARAMETERS:
                values[name] *= scale
    if override is not None:
        for code, values in read_override(override).items():
            params.setdefault(code, {}).update(values)
    frozen = {k: MappingProxyType(v) for k, v in params.items()}
    return VerifySettings(preset=preset, params=MappingProxyType(frozen))
