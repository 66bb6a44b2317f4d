"""Subcommands imported when they run: ``kilnwatch import readings`` imports the import
commands, not the simulator, the web application or the reports.

A :class:`LazyGroup` knows each subcommand by name, summary line and loader
(:class:`LazyCommand`). Running a subcommand loads it (its module and what that imports) and
builds it exactly as ``Typer.add_typer`` / ``Typer.command`` would; ``kilnwatch --help``
lists the summaries without loading anything (a test checks each summary against the loaded
command's own help).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo


@dataclass(frozen=True)
class LazyCommand:
    """A subcommand: its summary in ``--help`` and what gives it when it runs (a Typer app,
    which becomes a group, or a function, which becomes a command)."""

    summary: str
    load: Callable[[], typer.Typer | Callable[..., Any]]


class _Commands(MutableMapping[str, Any]):
    """The group's commands: the built ones, and the lazy ones built on first access."""

    def __init__(self, group: LazyGroup, built: MutableMapping[str, Any]) -> None:
        self._group = group
        self._built = built

    def built(self, name: str) -> bool:
        """Whether the command ``name`` is built (its module loaded)."""
        return name in self._built

    def __getitem__(self, name: str) -> Any:
        if name not in self._built and name in self._group.lazy:
            self._built[name] = self._group.build(name, self._group.lazy[name])
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._group.lazy
        yield from (name for name in self._built if name not in self._group.lazy)

    def __len__(self) -> int:
        return len(set(self._group.lazy) | set(self._built))


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands of :attr:`lazy` are built when first used."""

    lazy: ClassVar[dict[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._commands = _Commands(self, dict(self.commands))
        self.commands = self._commands
        self._listing = 0

    def build(self, name: str, entry: LazyCommand) -> Any:
        """The click command of ``entry``, as ``add_typer``/``command`` would build it."""
        target = entry.load()
        if isinstance(target, typer.Typer):
            return get_group_from_info(
                TyperInfo(target, name=name), pretty_exceptions_short=True,
                rich_markup_mode=self.rich_markup_mode, suggest_commands=self.suggest_commands,
            )  # fmt: skip
        return get_command_from_info(
            CommandInfo(name=name, callback=target), pretty_exceptions_short=True,
            rich_markup_mode=self.rich_markup_mode,
        )  # fmt: skip

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # noqa: ARG002 (click's signature)
        entry = self.lazy.get(cmd_name)
        if self._listing and entry is not None and not self._commands.built(cmd_name):
            return TyperCommand(name=cmd_name, help=entry.summary)
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:  # noqa: ARG002 (click's signature)
        return list(self.commands)  # names only: nothing is built

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing += 1
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing -= 1

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        self._listing += 1
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self._listing -= 1
