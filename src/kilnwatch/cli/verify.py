"""``kilnwatch verify``: batch verification of a period."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from kilnwatch.cli._common import command_session, console, exit_on_error, period_option
from kilnwatch.domain.periods import Period

if TYPE_CHECKING:
    from kilnwatch.verify.run import RunReport

app = typer.Typer(help="Cross-verification: find false and missing reporting.")
UNCHECKED_LISTED = 20  # items named in the run output (the count is always there)


@app.callback(invoke_without_command=True)
def verify_cmd(
    period: Annotated[
        Period, period_option("Period to verify; verification is monthly, so each month in it:")
    ],
    enterprise: Annotated[
        list[str] | None, typer.Option(help="USCC of an enterprise (repeatable); default all.")
    ] = None,
    preset: Annotated[str, typer.Option(help="default, strict or lenient")] = "default",
    rules: Annotated[
        Path | None, typer.Option(help="Province override of rule parameters (TOML or CSV).")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(min=1, max=64, help="Processes checking chunks of enterprises in parallel."),
    ] = 1,
    chunk_readings: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Readings of the month held at once: enterprises are read and checked in "
            "chunks of at most this many (an enterprise is never split); default from a 2 GiB "
            "memory budget, about 7.7 million.",
        ),
    ] = None,
) -> None:
    """Verify a period: run every rule and detector, store findings and scores, month by
    month (a quarter or a year is verified as each of its months); ``--jobs N`` checks the
    enterprises in N processes, ``--chunk-readings N`` reads at most N readings at once (the
    same findings, in the same order)."""
    from kilnwatch.store.models import Enterprise
    from kilnwatch.verify.enterprises import CHUNK_READINGS
    from kilnwatch.verify.run import verify_period
    from kilnwatch.verify.settings import verify_settings

    if preset not in ("default", "strict", "lenient"):
        raise typer.BadParameter("use default, strict or lenient", param_hint="--preset")
    months = period.split("month")
    chunk = chunk_readings or CHUNK_READINGS
    with exit_on_error():
        settings = verify_settings(preset, rules)  # type: ignore[arg-type]
        with command_session() as session, _progress() as bar:
            ids = None
            if enterprise:
                found = session.execute(
                    select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(enterprise))
                ).all()
                unknown = set(enterprise) - {u for u, _ in found}
                if unknown:
                    raise typer.BadParameter(f"unknown enterprise {', '.join(sorted(unknown))}")
                ids = [i for _, i in found]
            reports = []
            for month in months:
                task = bar.add_task(f"verifying {month}", total=None)
                advance = partial(_advance, bar, task)
                run = partial(verify_period, jobs=jobs, chunk_readings=chunk)
                reports.append(run(session, month, ids, settings, progress=advance))
    if len(months) > 1:
        labels = ", ".join(m.label for m in months)
        console.print(
            f"verification is monthly: {period} verified as {len(months)} months ({labels})"
        )
    _summary(reports, months)


def _advance(bar: Progress, task: TaskID, n: int, total: int) -> None:
    bar.update(task, completed=n, total=total)


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _summary(reports: list[RunReport], months: list[Period]) -> None:
    """The findings by rule over all months, then one line per month."""
    from collections import Counter

    table = Table("rule", "findings")
    counts = Counter(f.rule_code for r in reports for f in r.findings)
    for code, n in sorted(counts.items()):
        table.add_row(code, str(n))
    console.print(table)
    for month, r in zip(months, reports, strict=True):
        console.print(
            f"{f'{month}: ' if len(months) > 1 else ''}{r.enterprises} enterprises, "
            f"{len(r.findings)} findings ({r.new} new, {r.updated} updated, {r.closed} closed) "
            f"in {r.seconds:.1f} s"
        )
    unchecked = [u for r in reports for u in r.unchecked]
    if unchecked:
        console.print(
            f"accepted but not checked: {len(unchecked)} statistical item(s) that no meter or "
            "source of the enterprise can compare",
            markup=False,
        )
        for u in unchecked[:UNCHECKED_LISTED]:
            console.print(f"  {u}", markup=False)
        if len(unchecked) > UNCHECKED_LISTED:
            console.print(f"  … and {len(unchecked) - UNCHECKED_LISTED} more")
