"""The registry of checks against the parameter table: every parameter is read by code, every
rationale that speaks of a window holds on the window the check really uses, and the
registry's declarations (codes, kinds, shared parameters, emitted finding codes) agree."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kilnwatch.analytics.meters import EnterpriseInfo, MeterInfo
from kilnwatch.analytics.readings import Series
from kilnwatch.domain.periods import parse_period
from kilnwatch.reference.verify_rules import RuleParameter, load_verify_rules
from kilnwatch.store.models import LogisticsWaybill, StatisticalReport, TaxInvoice
from kilnwatch.verify.check import GROUPS, KINDS, WINDOW_MONTHS, Check
from kilnwatch.verify.checks import CHECKS, _declared, run_checks, run_province_checks
from kilnwatch.verify.context import (
    EarlierMonth,
    EnterpriseContext,
    MonthTotal,
    PeriodWindow,
    Sources,
    build_context,
)
from kilnwatch.verify.evidence import severity_for
from kilnwatch.verify.findings import Finding
from kilnwatch.verify.parameters import PRESETS, SHARED_GROUP, ParameterRead, recording_reads
from kilnwatch.verify.score import credibility
from kilnwatch.verify.settings import verify_settings
from kilnwatch.verify.window import months_before
from zone import SHANGHAI

WINDOW = PeriodWindow(parse_period("2025-03", SHANGHAI))
TONNES_PER_H = 10.0
COAL = MeterInfo(1, "E-COAL", 1, None, "raw_coal", "entry", None, "interval", "t", 0.5, None)
EARLIER = months_before(WINDOW, 5)  # Feb, Jan, Dec, Nov, Oct 2024-25
INCOMPLETE = "2024-10"  # the coal meter misses readings, the enterprise has no shipments


def _hours(n_days: int) -> int:
    return n_days * 24


def _month_rows(
    period: str, n_days: int, ent: int = 1
) -> tuple[list[TaxInvoice], list[LogisticsWaybill]]:
    """A month in which fuel purchases, coal deliveries and sales all exceed what the meters
    and the shipments say (by 20 %, 30 % and 30 %), in lots, without reported stocks."""
    day = date(int(period[:4]), int(period[5:7]), 10)
    coal_t = TONNES_PER_H * _hours(n_days)
    invoices = [
        TaxInvoice(invoice_no=f"P{period}-{n}", enterprise_id=ent, issued_on=day.replace(day=1 + n),
                   direction="purchase", item="raw_coal", quantity=1.2 * coal_t / 28, unit="t",
                   amount_cny=0.0)
        for n in range(28)  # a delivery a day: the stock change is bounded by a day's lot
    ] + [
        TaxInvoice(invoice_no=f"S{period}", enterprise_id=ent, issued_on=day, direction="sale",
                   item="product:clinker", quantity=1300.0, unit="t", amount_cny=0.0),
    ]  # fmt: skip
    lots_in = np.full(26, 0.05 * coal_t)
    waybills = [
        LogisticsWaybill(waybill_no=f"I{period}-{n}", enterprise_id=ent,
                         shipped_on=day.replace(day=1 + n), direction="in", mode="rail",
                         item="raw_coal", quantity_t=float(q))
        for n, q in enumerate(lots_in)
    ] + [
        LogisticsWaybill(waybill_no=f"O{period}-{n}", enterprise_id=ent,
                         shipped_on=day.replace(day=1 + n), direction="out", mode="road",
                         item="product:clinker", quantity_t=1000.0 / 28)
        for n in range(28)
    ]  # fmt: skip
    return invoices, waybills


def _production(period: str) -> dict[str, StatisticalReport]:
    """Production reported 30 % above what was shipped."""
    report = StatisticalReport(
        enterprise_id=1,
        period=period,
        item="production:clinker",
        quantity=1300.0,
        unit="t",
        source_file="s.csv",
        source_row=1,
    )
    return {report.item: report}


def _context(settings_path: Path | None = None) -> EnterpriseContext:
    """One enterprise with an hourly entry coal meter, March and five earlier months."""
    settings = verify_settings(override=settings_path)
    hours = _hours(WINDOW.month.days)
    ts = WINDOW.start_s + 3600 * np.arange(1, hours + 1, dtype=np.int64)
    values = np.full(hours, TONNES_PER_H)
    ones = np.ones(hours, dtype=np.int64)
    series = Series(ts, values, np.full(hours, "", dtype=object), ones, values, ones * 600, ones)
    invoices, waybills = _month_rows(WINDOW.period, WINDOW.month.days)
    sources = Sources(invoices=invoices, waybills=waybills, stats=_production(WINDOW.period))
    earlier = []
    for w in EARLIER:
        readings = _hours(w.month.days) - (5 if w.period == INCOMPLETE else 0)
        month_invoices, month_waybills = _month_rows(w.period, w.month.days)
        if w.period == INCOMPLETE:
            month_waybills = []
        earlier.append(
            EarlierMonth(
                w,
                month_invoices,
                month_waybills,
                {COAL.id: MonthTotal(TONNES_PER_H * readings, readings)},
                _production(w.period),
            )
        )
    info = EnterpriseInfo(1, "U1", "cement", (COAL,), ())
    return build_context(info, WINDOW, {COAL.id: series}, sources, settings, earlier=earlier)


def _run(ctx: EnterpriseContext) -> list[Finding]:
    """What a run does with one enterprise: every enabled check, then the province checks."""
    found = run_checks(ctx)
    return found + run_province_checks([ctx], found)


# -- the table and the registry -----------------------------------------------------------


def test_every_table_code_is_a_check_or_a_group() -> None:
    codes = {r.rule_code for r in load_verify_rules()}
    assert codes - set(CHECKS.codes) - set(GROUPS) == set()
    assert set(CHECKS.codes) - codes == set()
    for check in CHECKS:
        enabled = [p for p in check.parameters if p.parameter == "enabled"]
        assert [p.type for p in enabled] == ["bool"], check.code
        assert check.kind in KINDS and check.description
        own = {p.parameter for p in check.parameters if p.rule_code == check.code}
        shared = {p.parameter for p in check.parameters if p.rule_code == SHARED_GROUP}
        assert shared == set(check.shared) and not own & shared, check.code


def test_finding_codes_have_one_kind_and_stable_names() -> None:
    for code in CHECKS.finding_codes:
        assert re.fullmatch(r"verify(\.[a-z0-9_]+){2}", code), code
        assert len({c.kind for c in CHECKS.emitting(code)}) == 1, code
    assert CHECKS.fault_kinds("verify.submeter.parent_exceeds_children") == ("submeter_mismatch",)
    assert CHECKS.kind_of("verify.timeseries.data_gap") == "monitoring_quality"
    assert CHECKS.kind_of("verify.meter.intensity_drop") == "integrity"
    assert CHECKS.fault_kinds("verify.no.such_code") == ()


def test_a_check_that_emits_an_undeclared_code_fails_the_run() -> None:
    check = CHECKS["verify.fuel.invoice_vs_metered"]
    found = check.run(_context()) if check.run else []
    assert [f.rule_code for f in found] == [check.code]
    assert _declared(check, found) == found
    wrong = [dataclasses.replace(found[0], rule_code="verify.fuel.other")]
    with pytest.raises(RuntimeError, match="does not declare"):
        _declared(check, wrong)


# -- no parameter of the table is read by no code ------------------------------------------


def unread(rows: tuple[RuleParameter, ...], reads: set[ParameterRead]) -> list[str]:
    """Table rows that no recorded read answered."""
    answered = {(r.answered, r.parameter) for r in reads}
    return [
        f"{r.rule_code}.{r.parameter}" for r in rows if (r.rule_code, r.parameter) not in answered
    ]


def _read_everything() -> set[ParameterRead]:
    """Run every check, the severity bands, the score and every preset, recording reads."""
    ctx = _context()
    with recording_reads() as reads:
        found = _run(ctx)
        assert found, "the scenario raises findings, so findings are built"
        severity_for(0.5, ctx.settings)
        credibility([], ctx.settings)
        for preset in PRESETS:
            verify_settings(preset)
    return reads


def test_every_parameter_of_the_table_is_read_by_code() -> None:
    reads = _read_everything()
    assert unread(load_verify_rules(), reads) == []


def test_shared_parameters_are_read_exactly_as_declared() -> None:
    reads = _read_everything()
    for check in CHECKS:
        via_shared = {
            r.parameter for r in reads if r.asked == check.code and r.answered == SHARED_GROUP
        }
        assert via_shared == set(check.shared), check.code


def test_an_unread_parameter_is_reported() -> None:
    """The probe: a table row that no code reads makes the check above fail."""
    extra = RuleParameter(
        "verify.meter.capped", "never_read", 1.0, "float", "1", None, None, "none", "test",
        "low", "a row that no code reads",
    )  # fmt: skip
    reads = _read_everything()
    assert unread((*load_verify_rules(), extra), reads) == ["verify.meter.capped.never_read"]


# -- rationales against the behaviour ------------------------------------------------------

WINDOW_WORDS = re.compile(r"cumulat|months? of history|data window|window_months", re.IGNORECASE)
#: Every check with a ``window_months`` parameter, and the evidence key naming its months.
WINDOWED = {
    "verify.fuel.invoice_vs_metered": "months",
    "verify.coal_balance.unmetered": "months",
    "verify.revenue.sales_vs_shipped": "months",
    "verify.production.reported_vs_shipped": "months",
}


def test_a_rationale_that_speaks_of_a_window_belongs_to_a_windowed_check() -> None:
    for check in CHECKS:
        talks = any(WINDOW_WORDS.search(p.rationale) for p in check.parameters
                    if p.rule_code == check.code)  # fmt: skip
        assert talks == check.windowed, check.code
    assert {c.code for c in CHECKS if c.windowed} == set(WINDOWED)


def _run_alone(check: Check, ctx: EnterpriseContext) -> list[Finding]:
    """A check over every enterprise run on one (``verify.revenue.sales_vs_shipped``: with no
    peers it allows one lot at the window's ends)."""
    assert check.run_province is not None
    return check.run_province([ctx], [])


@pytest.mark.parametrize("months", [1, 2, 3, 6])
@pytest.mark.parametrize("code", sorted(WINDOWED))
def test_the_window_a_check_compares_is_its_window_months(
    code: str, months: int, tmp_path: Path
) -> None:
    """The rationale: ``window_months`` months ending with the verified month, earlier months
    only while complete (the incomplete October stops the window)."""
    override = tmp_path / "window.toml"
    override.write_text(f'[rules."{code}"]\n{WINDOW_MONTHS} = {months}\n')
    ctx = _context(override)
    check = CHECKS[code]
    found = check.run(ctx) if check.run is not None else _run_alone(check, ctx)
    assert len(found) == 1, [f.message for f in found]
    complete = [w for w in reversed(EARLIER) if w.period > INCOMPLETE]
    expected = (
        [w.period for w in complete][max(0, len(complete) - months + 1) :] if months > 1 else []
    )
    assert found[0].evidence[WINDOWED[code]] == [*expected, "2025-03"]
    first = next((w for w in EARLIER if w.period == expected[0]), WINDOW) if expected else WINDOW
    assert found[0].start_at == first.start_at
