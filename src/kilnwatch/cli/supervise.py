"""``kilnwatch supervise``: batches of supervision work (plan a joint inspection round, export
it, escalate overdue items, import complaints, set a user's department). docs/supervision.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kilnwatch.cli._common import SYSTEM, command_session, console, exit_on_error, settings
from kilnwatch.domain.periods import parse_period

app = typer.Typer(help="Supervision: inspection rounds, rectification, complaints.")


@app.command("plan-round")
def plan_round_cmd(
    round_: Annotated[str, typer.Option("--round", help="The round, a half-year: 2025H1.")],
    out: Annotated[Path, typer.Option(help="Where to write the plan (.csv or .xlsx).")],
    groups: Annotated[int | None, typer.Option(min=1, max=50, help="Number of groups.")] = None,
    tolerance: Annotated[
        float | None, typer.Option(help="Largest share a group's load may differ from the mean.")
    ] = None,
    homes: Annotated[
        str | None, typer.Option(help="Home cities of the groups, comma-separated (370100,…).")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Plan again a round nobody has started.")] = False,
) -> None:
    """Plan a half-yearly joint inspection round: every operating enterprise once, no group in
    its home city, loads balanced; store it and write one row per visit."""
    from dataclasses import replace as with_

    from kilnwatch.supervise.rounds import default_options, plan_and_store, visit_rows, write_plan

    with exit_on_error():
        period = parse_period(round_, settings().zone, field="round")
        if period.kind != "half_year":
            raise typer.BadParameter("a round is a half-year such as 2025H1", param_hint="--round")
        options = default_options(period.label, period, groups)
        if tolerance is not None:
            options = with_(options, tolerance_fraction=tolerance)
        if homes:
            options = with_(options, homes=tuple(h.strip() for h in homes.split(",") if h.strip()))
        options = with_(options, replace=replace)
        with command_session() as session:
            round_row, plan = plan_and_store(session, SYSTEM, options)
            rows = visit_rows(session, SYSTEM, round_row.id)
            write_plan(rows, out)
    console.print(
        f"round {round_row.code}: {len(plan.visits)} visits by {len(plan.groups)} groups, "
        f"largest load deviation {plan.max_deviation_fraction:.1%} "
        f"(tolerance {options.tolerance_fraction:.0%}), {len(round_row.excluded)} left out; "
        f"written to {out}"
    )
    for g in plan.groups:
        console.print(f"  group {g.number} (home {g.home_city}): {len(g.visits)} visits, "
                      f"load {g.load:g}, {len(g.cities)} cities")  # fmt: skip


@app.command("export-round")
def export_round_cmd(
    round_: Annotated[str, typer.Option("--round", help="The round: 2025H1.")],
    out: Annotated[Path, typer.Option(help="Where to write the plan (.csv or .xlsx).")],
) -> None:
    """Write a stored round, one row per visit."""
    from kilnwatch.supervise.rounds import get_round, visit_rows, write_plan

    with command_session() as session:
        rows = visit_rows(session, SYSTEM, get_round(session, round_).id)
        write_plan(rows, out)
    console.print(f"{len(rows)} visits written to {out}")


@app.command("escalate")
def escalate_cmd(
    today: Annotated[
        str | None, typer.Option(help="The day to judge deadlines by (default today).")
    ] = None,
) -> None:
    """Escalate every item past its deadline to the level above (and notify it); bring back
    the items whose deadline has been met or moved."""
    from datetime import date

    from kilnwatch.supervise.accountability import escalate_overdue

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise typer.BadParameter("a date YYYY-MM-DD", param_hint="--today") from None
    with command_session() as session:
        up, down = escalate_overdue(session, day)
    console.print(f"{up} items escalated, {down} back to their level")


@app.command("rectify-metering")
def rectify_metering_cmd(
    period: Annotated[
        str | None, typer.Option(help="The census is taken on its last day (default: this month).")
    ] = None,
    city: Annotated[str | None, typer.Option(help="A division code prefix, e.g. 3701.")] = None,
) -> None:
    """Open a rectification for every GB 17167 census non-conformity (missing instrument, rate
    or accuracy below the requirement, calibration overdue, missing or failed); a gap already
    open is not opened again (docs/metering.md)."""
    from datetime import datetime, timedelta

    from kilnwatch.domain.periods import Period
    from kilnwatch.metering.census import census_day
    from kilnwatch.metering.rectify import rectify_census_gaps

    s = settings()
    today = datetime.now(s.zone).date()
    with exit_on_error():
        chosen = (
            parse_period(period, s.zone) if period else Period.containing("month", today, s.zone)
        )
    day = census_day(chosen.stop - timedelta(days=1), today)
    with command_session(s) as session:
        result = rectify_census_gaps(session, SYSTEM, day, today, region_prefix=city)
    console.print(
        f"census of {day}: {result.gaps} non-conformities; {len(result.opened)} rectifications "
        f"opened, {len(result.existing)} already open"
    )


@app.command("send-mail")
def send_mail_cmd() -> None:
    """Send the queued e-mail: notices to users who asked for them by e-mail and complaint
    replies to complainants who left an e-mail address (SMTP: KILNWATCH_SMTP_*). A refused
    message stays queued with its error for the next run."""
    from kilnwatch.supervise.mailer import send_pending

    s = settings()
    with command_session(s) as session:
        report = send_pending(session, s)
    console.print(f"{report.sent} sent, {report.failed} refused (kept for the next run)")


@app.command("set-department")
def set_department_cmd(username: str, department: str) -> None:
    """Record the department a user works for (reference/supervise/departments.csv)."""
    from kilnwatch.supervise.access import set_department

    with command_session() as session:
        set_department(session, username, department)
    console.print(f"{username}: {department}")


@app.command("import-complaints")
def import_complaints_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: ref, channel, region_code, enterprise_uscc, "
            "subject, body, complainant, contact."
        ),
    ],
) -> None:
    """Import complaints (all or nothing; a row with the same ref is not entered twice)."""
    from kilnwatch.supervise.complaints import import_complaints

    with command_session() as session:
        items = import_complaints(session, file, actor=SYSTEM.subject)
    console.print(f"{len(items)} complaints recorded from {file.name}")
