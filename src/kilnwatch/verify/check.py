"""What a verification check is, and a set of checks (the one set is
:data:`kilnwatch.verify.checks.CHECKS`).

A :class:`Check` is declared once, next to the function that runs it (in ``rules/`` or
``detectors/``). Its stable dotted ``code`` is the key of its parameters in
``reference/verify_rules.csv`` (type, unit, default, range, preset scaling, source, confidence,
rationale per parameter; every check has an ``enabled`` row). It declares

* ``kind``: ``integrity`` (the data or the reports may be false: evidence for supervision) or
  ``monitoring_quality`` (the metering or the data delivery works badly: completeness, online
  rate), which the credibility score is to tell apart;
* ``emits``: the finding codes it produces, each with the ground-truth fault kinds it reveals
  (label kinds of docs/formats.md; used by ``benchmarks/detection.py``);
* ``shared``: the parameters of the common ``verify`` group it reads (a province may override
  them per check);
* the function that runs it: ``run`` on one enterprise and period, or ``run_province`` over
  the contexts of every enterprise of a run (comparisons with peers);
* for a check over every enterprise that reads an enterprise's readings (not only the meters'
  totals and daily figures), ``summarise``: computes what it reads into the context's
  :meth:`~kilnwatch.verify.context.EnterpriseContext.derived` cache while the readings are
  loaded; a run that reads the month in chunks of enterprises then keeps only each
  enterprise's summary (:func:`kilnwatch.verify.enterprises.summary`).

A check function reads all its parameters before it looks at the data, so that a run on any
context reads them all (``tests/verify/test_checks.py`` proves that no parameter of the table
is read by no code). The parameter groups that are not checks are :data:`GROUPS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from kilnwatch.errors import ConfigError
from kilnwatch.reference.verify_rules import RuleParameter, load_verify_rules
from kilnwatch.verify.context import EnterpriseContext
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.parameters import SHARED_GROUP, VerifySettings

Kind = Literal["integrity", "monitoring_quality"]
KINDS: tuple[Kind, ...] = ("integrity", "monitoring_quality")
EnterpriseRun = Callable[[EnterpriseContext], list[Finding]]
ProvinceRun = Callable[[Sequence[EnterpriseContext], Sequence[Finding]], list[Finding]]
Summarise = Callable[[EnterpriseContext], object]
#: Parameter groups that are not checks: shared defaults, severity bands, score points, presets.
GROUPS: Mapping[str, str] = MappingProxyType(
    {
        SHARED_GROUP: "defaults every check may read as its own (``shared``)",
        "verify.severity": "relative magnitudes from which a finding is medium or high",
        "verify.score": "credibility points per severity",
        "verify.preset": "scales of the strict and lenient presets",
    }
)
WINDOW_MONTHS = "window_months"
#: Fault kinds of a meter reading low (scaled down or clipped), revealed by several checks.
METER_FAULTS = ("meter_scaled", "meter_capped")


@dataclass(frozen=True)
class Check:
    """One check: code, kind, finding codes emitted (with the fault kinds each reveals),
    shared parameters read, and its function."""

    code: str
    kind: Kind
    emits: Mapping[str, tuple[str, ...]]
    run: EnterpriseRun | None = None
    run_province: ProvinceRun | None = None
    shared: tuple[str, ...] = ()
    summarise: Summarise | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.run_province is None):
            raise ValueError(f"{self.code}: give exactly one of run and run_province")
        if self.summarise is not None and self.run_province is None:
            raise ValueError(f"{self.code}: only a check over every enterprise summarises")
        object.__setattr__(self, "emits", MappingProxyType(dict(self.emits)))

    @property
    def parameters(self) -> tuple[RuleParameter, ...]:
        """Its own rows of the table, then the shared rows it reads."""
        rows = load_verify_rules()
        own = [r for r in rows if r.rule_code == self.code]
        common = [r for r in rows if r.rule_code == SHARED_GROUP and r.parameter in self.shared]
        return (*own, *common)

    @property
    def description(self) -> str:
        """What it compares: the rationale of its ``enabled`` row."""
        return next(p.rationale for p in self.parameters if p.parameter == "enabled")

    @property
    def windowed(self) -> bool:
        """True when it cumulates ``window_months`` months (:mod:`kilnwatch.verify.window`)."""
        return any(p.parameter == WINDOW_MONTHS for p in self.parameters)


@dataclass(frozen=True)
class Checks:
    """Checks in the order they run; looked up by check code or by finding code."""

    checks: tuple[Check, ...]
    _by_code: Mapping[str, Check] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_code = {c.code: c for c in self.checks}
        if len(by_code) != len(self.checks):
            raise ValueError("a check code is declared twice")
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __getitem__(self, code: str) -> Check:
        try:
            return self._by_code[code]
        except KeyError:
            raise ConfigError(f"no check {code!r}") from None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    @property
    def enterprise_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.run is not None)

    @property
    def province_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.run_province is not None)

    @property
    def finding_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for c in self.checks for code in c.emits))

    def emitting(self, finding_code: str) -> tuple[Check, ...]:
        """The checks that emit ``finding_code`` (several may: own shift and peers)."""
        return tuple(c for c in self.checks if finding_code in c.emits)

    def kind_of(self, finding_code: str) -> Kind:
        """Integrity or monitoring quality, for a finding code."""
        checks = self.emitting(finding_code)
        if not checks:
            raise ConfigError(f"no check emits {finding_code!r}")
        return checks[0].kind

    def fault_kinds(self, finding_code: str) -> tuple[str, ...]:
        """The ground-truth fault kinds a finding code reveals (empty for an unknown code)."""
        kinds = (k for c in self.emitting(finding_code) for k in c.emits[finding_code])
        return tuple(dict.fromkeys(kinds))

    def parameters(self, code: str) -> tuple[RuleParameter, ...]:
        """The parameters of a check (own and shared) or of a group."""
        if code in GROUPS:
            return tuple(r for r in load_verify_rules() if r.rule_code == code)
        return self[code].parameters

    def longest_window_months(self, settings: VerifySettings) -> int:
        """The most months any enabled check cumulates (1 when none does)."""
        windows = [
            settings.count(c.code, WINDOW_MONTHS)
            for c in self.checks
            if c.windowed and settings.enabled(c.code)
        ]
        return max(windows, default=1)
