"""``kilnwatch verify``: batch verification of a period."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from kilnwatch.cli._common import console, fail, session_scope
from kilnwatch.errors import KilnwatchError

app = typer.Typer(help="Cross-verification: find false and missing reporting.")


@app.callback(invoke_without_command=True)
def verify_cmd(
    period: Annotated[str, typer.Option(help="Month to verify, YYYY-MM.")],
    enterprise: Annotated[
        list[str] | None, typer.Option(help="USCC of an enterprise (repeatable); default all.")
    ] = None,
    preset: Annotated[str, typer.Option(help="default, strict or lenient")] = "default",
    rules: Annotated[
        Path | None, typer.Option(help="Province override of rule parameters (TOML or CSV).")
    ] = None,
) -> None:
    """Verify a period: run every rule and detector, store findings and scores."""
    from kilnwatch.store.models import Enterprise
    from kilnwatch.verify.run import verify_period
    from kilnwatch.verify.settings import verify_settings

    if preset not in ("default", "strict", "lenient"):
        raise typer.BadParameter("use default, strict or lenient", param_hint="--preset")
    try:
        settings = verify_settings(preset, rules)  # type: ignore[arg-type]
        with session_scope() as session, _progress() as bar:
            ids = None
            if enterprise:
                found = session.execute(
                    select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(enterprise))
                ).all()
                unknown = set(enterprise) - {u for u, _ in found}
                if unknown:
                    raise typer.BadParameter(f"unknown enterprise {', '.join(sorted(unknown))}")
                ids = [i for _, i in found]
            task = bar.add_task(f"verifying {period}", total=None)
            report = verify_period(
                session,
                period,
                ids,
                settings,
                progress=lambda n, total: bar.update(task, completed=n, total=total),
            )
    except KilnwatchError as exc:
        raise fail(exc) from exc
    _summary(report)


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _summary(report: object) -> None:
    from collections import Counter

    findings = getattr(report, "findings", [])
    table = Table("rule", "findings")
    for code, n in sorted(Counter(f.rule_code for f in findings).items()):
        table.add_row(code, str(n))
    console.print(table)
    console.print(
        f"{getattr(report, 'enterprises', 0)} enterprises, {len(findings)} findings "
        f"({getattr(report, 'new', 0)} new, {getattr(report, 'updated', 0)} updated, "
        f"{getattr(report, 'closed', 0)} closed) in {getattr(report, 'seconds', 0.0):.1f} s"
    )
