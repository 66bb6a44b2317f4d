"""The registry of verification checks: each check declared once, in the order it runs.

A :class:`Check` has a stable dotted ``code``: the key of its parameters in
``reference/verify_rules.csv`` (type, unit, default, range, preset scaling, source, confidence,
rationale per parameter; every check has an ``enabled`` row). It declares

* ``kind``: ``integrity`` (the data or the reports may be false: evidence for supervision) or
  ``monitoring_quality`` (the metering and data delivery work badly: completeness, online
  rate), which the credibility score is to tell apart;
* ``emits``: the finding codes it produces, each with the ground-truth fault kinds it reveals
  (label kinds of docs/formats.md; used by ``benchmarks/detection.py``);
* ``shared``: the parameters of the common ``verify`` group it reads (a province may override
  them per check);
* the function that runs it: ``run`` on one enterprise and period, or ``run_province`` over
  the contexts of every enterprise of a run (comparisons with peers).

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
from kilnwatch.verify.detectors import balance, flags, peers, timeseries
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.parameters import SHARED_GROUP, VerifySettings
from kilnwatch.verify.rules import electricity, fuel, reported, revenue

Kind = Literal["integrity", "monitoring_quality"]
KINDS: tuple[Kind, ...] = ("integrity", "monitoring_quality")
EnterpriseRun = Callable[[EnterpriseContext], list[Finding]]
ProvinceRun = Callable[[Sequence[EnterpriseContext], Sequence[Finding]], list[Finding]]
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
ACCURACY = ("min_gap_fraction", "accuracy_multiplier", "default_accuracy_pct")
METER_FAULTS = ("meter_scaled", "meter_capped")


@dataclass(frozen=True)
class Check:
    """One check: code, kind, finding codes emitted, shared parameters read, function."""

    code: str
    kind: Kind
    emits: Mapping[str, tuple[str, ...]]
    run: EnterpriseRun | None = None
    run_province: ProvinceRun | None = None
    shared: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.run is None) == (self.run_province is None):
            raise ValueError(f"{self.code}: give exactly one of run and run_province")

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


def _check(
    code: str, kind: Kind, run: EnterpriseRun, emits: Mapping[str, tuple[str, ...]] | None = None,
    faults: tuple[str, ...] = (), shared: tuple[str, ...] = (),
) -> Check:  # fmt: skip
    """An enterprise check; ``emits`` defaults to its own code revealing ``faults``."""
    return Check(code, kind, MappingProxyType(dict(emits or {code: faults})), run, shared=shared)


@dataclass(frozen=True)
class Registry:
    """Every check, in the order they run; looked up by check code or finding code."""

    checks: tuple[Check, ...]
    _by_code: Mapping[str, Check] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", MappingProxyType({c.code: c for c in self.checks}))

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

    def emitting(self, finding_code: str) -> tuple[Check, ...]:
        """The checks that emit ``finding_code`` (several may: own shift and peers)."""
        return tuple(c for c in self.checks if finding_code in c.emits)

    @property
    def finding_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for c in self.checks for code in c.emits))

    def kind_of(self, finding_code: str) -> Kind:
        """Integrity or monitoring quality, for a finding code."""
        checks = self.emitting(finding_code)
        if not checks:
            raise ConfigError(f"no check emits {finding_code!r}")
        return checks[0].kind

    def fault_kinds(self, finding_code: str) -> tuple[str, ...]:
        """The ground-truth fault kinds a finding code reveals (empty for an unknown code)."""
        return tuple(
            dict.fromkeys(k for c in self.emitting(finding_code) for k in c.emits[finding_code])
        )

    def parameters(self, code: str) -> tuple[RuleParameter, ...]:
        """The parameters of a check (own and shared) or of a group."""
        if code in GROUPS:
            return tuple(r for r in load_verify_rules() if r.rule_code == code)
        return self[code].parameters

    def longest_window_months(self, settings: VerifySettings) -> int:
        """The most months any enabled check cumulates (1 when none does)."""
        return max(
            [
                settings.count(c.code, WINDOW_MONTHS)
                for c in self.checks
                if c.windowed and settings.enabled(c.code)
            ],
            default=1,
        )


CHECKS = Registry(
    (
        _check(balance.INTENSITY, "integrity", balance.check_intensity, faults=METER_FAULTS),
        _check(
            balance.RATIO,
            "integrity",
            balance.check_submeters,
            {
                balance.PARENT_EXCEEDS: ("submeter_mismatch",),
                balance.PARENT_BELOW: METER_FAULTS,
                balance.CHILD_LOW: METER_FAULTS,
            },
        ),
        _check(
            reported.ENERGY,
            "integrity",
            reported.check_energy_reported,
            {reported.ENERGY_UNDER: ("stats_underreport_energy",), reported.ENERGY_OVER: ()},
            shared=("min_quantity", "min_gap_fraction"),
        ),
        _check(
            reported.PRODUCTION,
            "integrity",
            reported.check_production_reported,
            {reported.PRODUCTION_OVER: ("production_overreport",), reported.PRODUCTION_UNDER: ()},
            shared=("min_quantity", "min_gap_fraction"),
        ),
        _check(
            electricity.GRID,
            "integrity",
            electricity.check_grid_vs_metered,
            faults=METER_FAULTS,
            shared=ACCURACY,
        ),
        _check(
            electricity.INVOICE,
            "integrity",
            electricity.check_invoice_vs_grid,
            shared=("min_gap_fraction",),
        ),
        _check(
            fuel.INVOICE,
            "integrity",
            fuel.check_fuel_invoices,
            faults=METER_FAULTS,
            shared=("min_quantity", *ACCURACY),
        ),
        _check(
            fuel.COAL,
            "integrity",
            fuel.check_coal_balance,
            faults=("unmetered_coal",),
            shared=("min_quantity", *ACCURACY),
        ),
        _check(
            revenue.SHIPPED,
            "integrity",
            revenue.check_sales_vs_shipped,
            faults=("revenue_mismatch",),
            shared=("min_gap_fraction",),
        ),
        _check(
            revenue.MARKET,
            "integrity",
            revenue.check_amount_vs_market,
            faults=("revenue_mismatch",),
        ),
        _check(balance.CAPPED, "integrity", balance.check_capped, faults=("meter_capped",)),
        _check(timeseries.GAP, "monitoring_quality", timeseries.check_gaps, faults=("data_gap",)),
        _check(
            timeseries.STUCK,
            "monitoring_quality",
            timeseries.check_stuck,
            faults=("stuck_sensor", "meter_capped"),
        ),
        _check(timeseries.IMPOSSIBLE, "monitoring_quality", timeseries.check_impossible),
        _check(
            timeseries.CORRECTIONS,
            "integrity",
            timeseries.check_corrections,
            faults=("backdated_packets",),
        ),
        _check(timeseries.LATE, "integrity", timeseries.check_late, faults=("backdated_packets",)),
        _check(
            timeseries.DUPLICATES,
            "monitoring_quality",
            timeseries.check_duplicates,
            faults=("duplicate_packets",),
        ),
        _check(flags.FLAGS, "integrity", flags.check_flags, faults=("flag_abuse",)),
        Check(
            peers.PEERS,
            "integrity",
            MappingProxyType({balance.PARENT_EXCEEDS: ("submeter_mismatch",)}),
            run_province=peers.check_peers,
        ),
    )
)


def run_checks(ctx: EnterpriseContext) -> list[Finding]:
    """All findings of one enterprise and period: every enabled enterprise check in order,
    then the findings another finding explains are dropped."""
    out: list[Finding] = []
    for check in CHECKS.enterprise_checks:
        if check.run is not None and ctx.settings.enabled(check.code):
            out += _declared(check, check.run(ctx))
    return _without_explained_ratios(ctx, _without_capped_repeats(out))


def run_province_checks(
    contexts: Sequence[EnterpriseContext], existing: Sequence[Finding]
) -> list[Finding]:
    """The findings of the checks over every enterprise of a run (peers)."""
    out: list[Finding] = []
    for check in CHECKS.province_checks:
        enabled = bool(contexts) and contexts[0].settings.enabled(check.code)
        if check.run_province is not None and enabled:
            out += _declared(check, check.run_province(contexts, existing))
    return out


def _declared(check: Check, findings: list[Finding]) -> list[Finding]:
    """``findings``, after making sure the check emits only the codes it declares."""
    for f in findings:
        if f.rule_code not in check.emits:
            raise RuntimeError(f"{check.code} emitted {f.rule_code}, which it does not declare")
    return findings


def _without_explained_ratios(ctx: EnterpriseContext, findings: list[Finding]) -> list[Finding]:
    """A parent/sub-meter ratio change or an intensity drop over days where that meter (or a
    sub-meter) had readings re-sent with other values is explained by that correction,
    which is reported on its own."""
    corrected = [f for f in findings if f.rule_code == timeseries.CORRECTIONS]
    explainable = frozenset(CHECKS[balance.RATIO].emits) | {balance.INTENSITY}

    def explained(f: Finding) -> bool:
        if f.rule_code not in explainable or f.meter_id is None:
            return False
        related = {f.meter_id} | {c.info.id for c in ctx.children(f.meter_id)}
        return any(
            c.meter_id in related and c.start_at < f.end_at and f.start_at < c.end_at
            for c in corrected
        )

    return [f for f in findings if not explained(f)]


def _without_capped_repeats(findings: list[Finding]) -> list[Finding]:
    """A clipped meter repeats its cap; that is the cap, not a second (stuck) fault."""
    capped = {f.meter_id for f in findings if f.rule_code == balance.CAPPED}
    return [f for f in findings if not (f.rule_code == timeseries.STUCK and f.meter_id in capped)]
