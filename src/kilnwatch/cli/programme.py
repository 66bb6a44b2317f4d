"""``kilnwatch programme …``: the efficiency programme in batches: determine every unit's
level, declare and decide, plans (一企一策), measured savings, leaders, elimination, alerts."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from kilnwatch.cli._common import (
    SYSTEM,
    command_session,
    console,
    exit_on_error,
    fail,
    period_option,
    settings,
)
from kilnwatch.domain.mv import Adjustment
from kilnwatch.domain.periods import Period
from kilnwatch.errors import InputError, NotFoundError
from kilnwatch.identity import Principal, Role
from kilnwatch.programme import determination, plans
from kilnwatch.programme.catalogue import catalogue_json, catalogue_matches
from kilnwatch.programme.energy_factors import import_energy_factors, record_energy_factor
from kilnwatch.programme.exit_grounds import record_exit_ground
from kilnwatch.programme.savings import record_savings, retrofit_periods, unit_savings
from kilnwatch.programme.tables import level_tables
from kilnwatch.programme.view import programme_view
from kilnwatch.reference.levels import read_provincial_tables
from kilnwatch.store.models import Enterprise, ProductionUnit

app = typer.Typer(
    help="Efficiency programme (能效提升): levels, plans, savings.", no_args_is_help=True
)
plan_app = typer.Typer(help="Retrofit plans (一企一策).", no_args_is_help=True)
app.add_typer(plan_app, name="plan")

PeriodOpt = Annotated[Period, period_option("The period:")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
AsOpt = Annotated[
    str, typer.Option("--by", help="Who acts, recorded with the step (the operator's scope).")
]
ClassOpt = Annotated[str, typer.Option("--class", help="benchmark, between, below_baseline")]
TodayOpt = Annotated[str | None, typer.Option(help="As of this day (default today).")]


def _today(text: str | None) -> date:
    """``--today`` as a date (default: today)."""
    return date.fromisoformat(text) if text else date.today()


def _principal(name: str) -> Principal:
    """The operator (administrator's scope and rights) under the name recorded as the actor;
    role-bound steps by enterprise, city and province users go through the web application."""
    return Principal(subject=name, role=Role.ADMIN) if name else SYSTEM


def _unit(session: object, key: str) -> ProductionUnit:
    uscc, _, code = key.partition("/")
    unit = session.scalar(  # type: ignore[attr-defined]
        select(ProductionUnit)
        .join(Enterprise)
        .where(Enterprise.uscc == uscc, ProductionUnit.code == code)
    )
    if unit is None:
        raise NotFoundError(f"unit {key!r} not found (give USCC/UNIT_CODE)")
    return unit  # type: ignore[no-any-return]


@app.command("determine")
def determine(
    period: PeriodOpt,
    provincial_dir: Annotated[
        Path | None, typer.Option("--provincial-dir", help="Directory of provincial tables.")
    ] = None,
) -> None:
    """Compute and store every unit's level for the period (核查认定), naming the table used."""
    s = settings()
    with exit_on_error():
        tables = level_tables(s)
        if provincial_dir is not None:
            tables = (*tables, *read_provincial_tables(provincial_dir))
    with command_session(s) as session:
        rows = determination.determine(session, SYSTEM, period, tables)
        done = sum(r.computed_class is not None for r in rows)
        by_table: dict[str, int] = {}
        for r in rows:
            by_table[r.computed_table or "-"] = by_table.get(r.computed_table or "-", 0) + 1
    console.print(f"{period}: {len(rows)} units, {done} classified; by table {by_table}")


@app.command("declare")
def declare(
    determination_id: int,
    level: ClassOpt,
    evidence: Annotated[str, typer.Option(help="The evidence (report, test, document).")],
    as_: AsOpt = "",
) -> None:
    """The enterprise's declared class with its evidence."""
    with command_session() as session:
        row = determination.declare(session, _principal(as_), determination_id, level, evidence)
        status = row.status
    console.print(f"determination {determination_id}: {status}")


@app.command("decide")
def decide(
    determination_id: int,
    level: ClassOpt,
    evidence: Annotated[str, typer.Option(help="What the experts' decision rests on.")],
    as_: AsOpt = "",
) -> None:
    """The experts' decision on a determination (who, when, evidence)."""
    with command_session() as session:
        determination.decide(session, _principal(as_), determination_id, level, evidence)
    console.print(f"determination {determination_id}: decided {level}")


@app.command("energy-factor")
def energy_factor(
    unit: Annotated[str, typer.Argument(help="USCC/UNIT_CODE of the refinery.")],
    factor: Annotated[float, typer.Option("--factor", help="The energy factor (能量因数).")],
    valid_from: Annotated[
        datetime,
        typer.Option("--valid-from", formats=["%Y-%m-%d"], help="The day it applies from."),
    ],
    evidence: Annotated[str, typer.Option(help="What the factor rests on (calculation sheet).")],
    as_: AsOpt = "",
) -> None:
    """Record a refinery's energy factor (GB 30251-2024): its metered data is then classified."""
    day = valid_from.date()
    with command_session() as session:
        u = _unit(session, unit)
        record_energy_factor(session, _principal(as_), u.id, factor, day, evidence)
    console.print(f"{unit}: energy factor {factor:g} from {day}")


@app.command("energy-factors-import")
def energy_factors_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: enterprise_uscc, unit_code, energy_factor, valid_from, evidence."
        ),
    ],  # fmt: skip
) -> None:
    """Record refinery energy factors from a file, all or nothing (a row already recorded is
    not recorded twice); the simulator writes ``energy_factors.csv``."""
    with command_session() as session:
        n = import_energy_factors(session, SYSTEM, file)
    console.print(f"{file.name}: {n} energy factors recorded")


@app.command("exit-ground")
def exit_ground(
    unit: Annotated[str, typer.Argument(help="USCC/UNIT_CODE of the unit.")],
    kind: Annotated[str, typer.Option(help="safety | environment | technology | quality.")],
    finding: Annotated[str, typer.Option(help="breach (an exit ground) | meets.")],
    standard: Annotated[str, typer.Option(help="The standard or document cited.")],
    evidence: Annotated[str, typer.Option(help="What the determination rests on.")],
    determined_by: Annotated[str, typer.Option("--determined-by", help="Who determined it.")],
    on: Annotated[
        datetime, typer.Option("--on", formats=["%Y-%m-%d"], help="Day of the determination.")
    ],
    deadline: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Exit or rectification deadline it sets."),
    ] = None,
    as_: AsOpt = "",
) -> None:
    """Record a determination on one of the standards of low-efficiency exit (safety,
    environment, technology, quality; energy is judged from the levels). Never rewritten:
    a later determination of the same kind is in force."""
    with command_session() as session:
        u = _unit(session, unit)
        row = record_exit_ground(
            session, _principal(as_), u.id, kind, finding, standard, evidence, determined_by,
            on.date(), deadline.date() if deadline else None,
        )  # fmt: skip
    console.print(f"{unit}: {kind} {finding} ({standard}) recorded as determination {row.id}")


@app.command("obsolete")
def obsolete(as_json: JsonOpt = False) -> None:
    """Units whose equipment attributes match an obsolete-equipment rule (淘汰类,
    ``reference/programme/obsolete_equipment.csv``), and units that lack the attributes a
    rule needs."""
    s = settings()
    with command_session(s) as session:
        found = catalogue_matches(session, SYSTEM, s.province)
    if as_json:
        typer.echo(json.dumps(catalogue_json(found), default=str, ensure_ascii=False))
        return
    _view_table("obsolete equipment", ["unit", "rule", "kind", "deadline", "evidence"],
                [[f"{u.enterprise_uscc}/{u.unit_code}", m.rule.rule_id, m.rule.kind,
                  m.rule.deadline or "none stated", "; ".join(m.evidence)]
                 for u in found for m in u.matches])  # fmt: skip
    unjudged = [(u, x) for u in found for x in u.unjudged]
    _view_table("not judged (attributes missing)", ["unit", "rule", "missing"],
                [[f"{u.enterprise_uscc}/{u.unit_code}", x.rule_id, ", ".join(x.missing)]
                 for u, x in unjudged])  # fmt: skip
    matched = sum(len(u.matches) for u in found)
    console.print(f"{matched} matches, {len(unjudged)} rules not judged for missing attributes")


def _measure(text: str) -> plans.Measure:
    parts = text.split(":")
    if len(parts) != 3:
        raise typer.BadParameter("NAME:INVESTMENT_CNY:SAVING_TCE_PER_YEAR", param_hint="--measure")
    try:
        return plans.Measure(parts[0], float(parts[1]), float(parts[2]))
    except ValueError:
        raise typer.BadParameter(f"not numbers in {text!r}", param_hint="--measure") from None


def _milestone(text: str) -> tuple[str, date]:
    name, _, day = text.rpartition(":")
    try:
        return name, date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(
            f"TITLE:YYYY-MM-DD, got {text!r}", param_hint="--milestone"
        ) from None


@plan_app.command("add")
def plan_add(
    unit: Annotated[str, typer.Option(help="USCC/UNIT_CODE")],
    title: Annotated[str, typer.Option()],
    measure: Annotated[list[str], typer.Option(help="NAME:INVESTMENT_CNY:SAVING_TCE_PER_YEAR")],
    responsible: Annotated[str, typer.Option(help="People responsible.")],
    start: Annotated[str, typer.Option(help="Start date YYYY-MM-DD.")],
    deadline: Annotated[str | None, typer.Option(help="Deadline (default: policy).")] = None,
    milestone: Annotated[list[str] | None, typer.Option(help="TITLE:YYYY-MM-DD")] = None,
    as_: AsOpt = "",
) -> None:
    """Draft a plan for a unit; the deadline may not pass the policy's."""
    s = settings()
    try:
        with command_session(s) as session:
            plan = plans.create_plan(
                session,
                _principal(as_),
                _unit(session, unit),
                title=title,
                measures=[_measure(m) for m in measure],
                responsible=responsible,
                start_on=date.fromisoformat(start),
                deadline_on=date.fromisoformat(deadline) if deadline else None,
                milestones=[_milestone(m) for m in milestone or []],
                province=s.province,
            )
            plan_id, due = plan.id, plan.deadline_on
    except ValueError as exc:
        raise fail(InputError(str(exc), field="date")) from exc
    console.print(f"plan {plan_id}: draft, deadline {due}")


@plan_app.command("act")
def plan_act(
    plan_id: int,
    action: Annotated[str, typer.Argument(help="submit, city_review, approve, reject, complete")],
    note: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    as_: AsOpt = "",
) -> None:
    """Move a plan along its workflow (enterprise drafts, city reviews, province approves)."""
    with command_session() as session:
        status = plans.act(session, _principal(as_), plan_id, action, note).status
    console.print(f"plan {plan_id}: {status}")


@app.command("alerts")
def alerts(today: TodayOpt = None, as_json: JsonOpt = False) -> None:
    """Plans that slip: overdue milestones, deadlines passed."""
    with command_session() as session:
        found = plans.slipping(session, SYSTEM, _today(today))
    if as_json:
        typer.echo(json.dumps([a.__dict__ for a in found], default=str, ensure_ascii=False))
        return
    for a in found:
        console.print(f"{a.code} plan {a.plan_id} {a.enterprise_uscc}/{a.unit_code} {a.due_on}")
    console.print(f"{len(found)} alerts")


@app.command("savings")
def savings(
    unit: Annotated[str, typer.Option(help="USCC/UNIT_CODE")],
    effective: Annotated[str, typer.Option(help="Retrofit effective date YYYY-MM-DD.")],
    first: Annotated[str, typer.Option("--from", help="First baseline day.")],
    last: Annotated[str, typer.Option("--to", help="Last reporting day.")],
    intervention_days: Annotated[int, typer.Option(help="Days left out before it.")] = 0,
    adjust: Annotated[
        list[str] | None, typer.Option(help="Non-routine adjustment TCE:REASON")
    ] = None,
    plan: Annotated[int | None, typer.Option(help="The plan this retrofit belongs to.")] = None,
    record: Annotated[bool, typer.Option(help="Store the measurement.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Measured savings of a retrofit (M&V): baseline model, statistics, savings ± uncertainty."""
    s = settings()
    try:
        adjustments = tuple(
            Adjustment(float(a.split(":", 1)[0]), a.split(":", 1)[1], "cli") for a in adjust or []
        )
        effective_on = date.fromisoformat(effective)
        with command_session(s) as session:
            u = _unit(session, unit)
            baseline, reporting = retrofit_periods(
                effective_on, date.fromisoformat(first), date.fromisoformat(last), s.zone,
                intervention_days,
            )  # fmt: skip
            result = unit_savings(session, u, baseline, reporting, adjustments=adjustments)
            if record:
                record_savings(session, SYSTEM, u, result, effective_on,
                               adjustments=adjustments, plan_id=plan)  # fmt: skip
            payload = result.to_json()
    except (ValueError, IndexError) as exc:
        raise fail(InputError(f"bad date or adjustment: {exc}", field="savings")) from exc
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    r, m = payload["result"], payload["model"]
    console.print(
        f"{unit}: savings {r['savings_tce']:.1f} tce = {r['savings_fraction']:.2%} "
        f"± {r['uncertainty_fraction']:.2%} ({r['confidence']:.0%}), "
        f"{'significant' if r['significant'] else 'not significant'}; "
        f"CV(RMSE) {m['cv_rmse']:.2%}, NMBE {m['nmbe']:.3%}, R² {m['r_squared']:.3f}, "
        f"out of range {r['out_of_range_fraction']:.0%}; class after {payload['reporting_class']}"
    )


def _view_table(title: str, headers: list[str], rows: list[list[object]]) -> None:
    table = Table(title=title)
    for h in headers:
        table.add_column(h)
    for row in rows:
        table.add_row(*(f"{c:.4g}" if isinstance(c, float) else str(c) for c in row))
    console.print(table)


@app.command("view")
def view(
    period: PeriodOpt,
    today: TodayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stages, share at benchmark, leaders and the elimination list in the terminal."""
    s = settings()
    with command_session(s) as session:
        v = programme_view(session, SYSTEM, period, _today(today), s.province, level_tables(s))
    if as_json:
        doc = {
            **v.coverage_json(),
            "stages": [st.__dict__ for st in v.stages],
            "share_by_month": v.share_by_month,
            "leaders": [r.__dict__ for r in v.leaders],
            "eliminations": [e.__dict__ for e in v.eliminations],
            "alerts": [a.__dict__ for a in v.alerts],
            "obsolete": catalogue_json(v.catalogue),
            "exit_grounds": [g.__dict__ for g in v.exit_grounds],
        }
        typer.echo(json.dumps(doc, default=str, ensure_ascii=False))
        return
    _view_table("stages", ["stage", "units", "capacity"],
                [[st.stage, st.units, st.capacity] for st in v.stages])  # fmt: skip
    _view_table("leaders", ["field", "rank", "unit", "intensity", "benchmark", "gap"],
                [[r.level_field, r.rank, f"{r.enterprise_uscc}/{r.unit_code}", r.intensity,
                  r.benchmark, f"{r.gap_fraction:.1%}"] for r in v.leaders])  # fmt: skip
    _view_table("elimination", ["code", "unit", "deadline", "reason"],
                [[e.code, f"{e.enterprise_uscc}/{e.unit_code}", e.deadline_on, e.reason]
                 for e in v.eliminations])  # fmt: skip
    _view_table("exit grounds", ["unit", "kind", "finding", "standard", "basis", "evidence"],
                [[g.unit_label, g.kind, g.finding, g.standard, g.basis, g.evidence]
                 for g in v.exit_grounds])  # fmt: skip
    console.print(
        f"{v.units_classified}/{v.units_total} units classified ({v.share_classified:.1%}); "
        f"without a class: {v.unclassified_by_code() or 'none'} (each unit with --json)"
    )
