"""``kilnwatch audit``: check and read the hash-chained audit trail (``store/audit.py``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from kilnwatch.cli._common import console, err_console, session_scope
from kilnwatch.store.audit import check_chain
from kilnwatch.store.models import AuditEntry

app = typer.Typer(help="The audit trail (可复核): every change to kept records, hash-chained.")


def _parse_head(text: str) -> tuple[int, str]:
    seq, sep, digest = text.partition(":")
    if not (sep and seq.isdigit() and len(digest) == 64):
        raise typer.BadParameter("give SEQ:HASH as printed by `kilnwatch audit head`")
    return int(seq), digest.lower()


@app.command("verify")
def verify(
    head: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH kept elsewhere (`audit head`): also proves no entry was cut."),
    ] = None,
) -> None:
    """Recompute the chain. Exit 0 when intact; 1 naming the first edited, inserted or deleted
    entry."""
    expected = _parse_head(head) if head else None
    with session_scope() as session:
        check = check_chain(session, expected_head=expected)
    if check.broken is not None:
        b = check.broken
        err_console.print(
            f"[red]broken[/red] {b.code} at entry {b.seq}: {b.reason}", highlight=False
        )
        raise typer.Exit(code=1)
    console.print(f"intact: {check.entries} entries, head {check.head_seq}:{check.head_hash}")


@app.command("head")
def head() -> None:
    """Print the newest entry as SEQ:HASH, to keep outside the database (e.g. with backups)."""
    with session_scope() as session:
        check = check_chain(session)
    console.print(f"{check.head_seq}:{check.head_hash}", highlight=False)


@app.command("log")
def log(
    table: Annotated[str | None, typer.Option(help="Only this table (e.g. enterprises).")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The newest entries, newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if table:
        stmt = stmt.where(AuditEntry.table_name == table)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    with session_scope() as session:
        entries = list(session.scalars(stmt))
    if as_json:
        for e in entries:
            row = {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action}
            row |= {"table": e.table_name, "key": e.row_key, "changes": e.changes}
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    out = Table("seq", "at (UTC)", "actor", "action", "table", "key", "changes")
    for e in entries:
        changes = json.dumps(e.changes, ensure_ascii=False)
        out.add_row(
            str(e.seq),
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.actor,
            e.action,
            e.table_name,
            e.row_key,
            changes[:80],
        )
    console.print(out)
