"""The import rules of docs/architecture.md, enforced.

The table "package | concern | may import" in docs/architecture.md is the allow-list: every
top-level package or module of ``kilnwatch`` has a row, and a module may import another unit of
the project only when its row names that unit (or the dotted module it takes, e.g.
``ingest.hj212``). Besides the table:

* no module imports a private module (a name starting with ``_``) outside the package that
  holds it;
* no two modules import each other, directly or through others (function-local imports and
  relative imports count; imports under ``if TYPE_CHECKING:`` never run and do not);
* the pure ``domain`` imports no I/O library.

Each rule has a probe below that writes an offending module and proves the check fails on it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import kilnwatch

ROOT = Path(kilnwatch.__file__).parent
DOC = Path(__file__).parents[1] / "docs" / "architecture.md"
PACKAGE = "kilnwatch"
FACE = "__init__"
# Third-party modules that mean I/O and are banned from the pure domain layer.
DOMAIN_BANNED = {"sqlalchemy", "fastapi", "paho", "httpx", "psycopg", "logging", "os", "polars"}
_ROW = re.compile(r"^\|\s*`([A-Za-z_][\w]*)(/|\.py)`\s*\|[^|]*\|([^|]*)\|\s*$")
_TOKEN = re.compile(r"`([A-Za-z_][\w.]*)`")


def allow_list(doc: Path = DOC) -> dict[str, frozenset[str]]:
    """``unit -> what it may import`` from the table of docs/architecture.md."""
    table: dict[str, frozenset[str]] = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        if m := _ROW.match(line):
            table[m.group(1)] = frozenset(_TOKEN.findall(m.group(3)))
    return table


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. kilnwatch.store.repos.scope
    path: Path

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def unit(self) -> str:
        """The top-level package or module the module belongs to (``store``, ``errors``;
        ``__init__`` for the package's face)."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else FACE


def modules() -> dict[str, Module]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = list(rel.parts[:-1]) if rel.name == "__init__" else list(rel.parts)
        found[".".join(parts)] = Module(".".join(parts), path)
    return found


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.name.split(".")
    if not module.is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_names(module: Module, *, run_time_only: bool = False) -> set[str]:
    """Every module name ``module`` imports (absolute, relative, function-local); with
    ``run_time_only``, not those under ``if TYPE_CHECKING:``."""
    stat = module.path.stat()
    return set(_imported_names(module, stat.st_mtime_ns, stat.st_size, run_time_only))


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (never run, so no cycle)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return hidden


@cache
def _imported_names(
    module: Module, _mtime_ns: int, _size: int, run_time_only: bool
) -> frozenset[str]:
    names: set[str] = set()
    tree = ast.parse(module.path.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree) if run_time_only else set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node)
            names.update(f"{target}.{a.name}" for a in node.names)
            names.add(target)
    return frozenset(names)


def _project_module(name: str, known: dict[str, Module]) -> str | None:
    """The project module that ``name`` refers to (a submodule, else its package)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(known: dict[str, Module], *, run_time_only: bool = False) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, module in known.items():
        targets = set()
        for imported in imported_names(module, run_time_only=run_time_only):
            if imported.split(".")[0] != PACKAGE:
                continue
            target = _project_module(imported, known)
            # ``from kilnwatch.x import y`` also names kilnwatch.x.y; the package itself is an
            # import only when nothing deeper matched
            if target is not None and target != name:
                targets.add(target)
        graph[name] = {t for t in targets if not any(o.startswith(t + ".") for o in targets)}
    return graph


def _allowed(unit: str, target: str, table: dict[str, frozenset[str]]) -> bool:
    rest = target.split(".", 1)[1] if "." in target else FACE
    return any(rest == a or rest.startswith(a + ".") for a in table.get(unit, ()))


def table_violations(known: dict[str, Module], table: dict[str, frozenset[str]]) -> list[str]:
    found = []
    units = {m.unit for m in known.values()}
    found += [f"{u} has no row in docs/architecture.md" for u in sorted(units - set(table))]
    found += [f"docs/architecture.md has a row for {u}, which does not exist"
              for u in sorted(set(table) - units)]  # fmt: skip
    for name, targets in sorted(import_graph(known).items()):
        unit = known[name].unit
        for target in sorted(targets):
            if known[target].unit != unit and not _allowed(unit, target, table):
                found.append(f"{name} imports {target}: not in the row of {unit}")
    return found


def private_violations(known: dict[str, Module]) -> list[str]:
    found = []
    for name, targets in sorted(import_graph(known).items()):
        for target in sorted(targets):
            parts = target.split(".")
            for depth, part in enumerate(parts):
                owner = ".".join(parts[:depth])
                if part.startswith("_") and not (name == owner or name.startswith(owner + ".")):
                    found.append(f"{name} imports private {target} from outside {owner}")
                    break
    return found


def cycles(known: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = import_graph(known, run_time_only=True)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def domain_io_violations(known: dict[str, Module]) -> list[str]:
    return [
        f"{name} (pure domain) imports {imported}"
        for name, module in sorted(known.items())
        if module.unit == "domain"
        for imported in sorted(imported_names(module))
        if imported.split(".")[0] in DOMAIN_BANNED
    ]


def test_the_table_is_read() -> None:
    table = allow_list()
    assert {"domain", "store", "ingest", "verify", "web", "cli", "errors"} <= set(table)
    assert table["domain"] == {"reference", "errors"}


def test_imports_follow_the_table() -> None:
    assert table_violations(modules(), allow_list()) == []


def test_no_private_module_is_imported_from_outside_its_package() -> None:
    assert private_violations(modules()) == []


def test_no_two_modules_import_each_other() -> None:
    assert cycles(modules()) == []


def test_domain_is_pure() -> None:
    assert domain_io_violations(modules()) == []


# -- probes: each rule fails on an offending module ----------------------------------------


@contextmanager
def probe_files(files: dict[str, str]) -> Iterator[None]:
    written = []
    try:
        for rel, source in files.items():
            path = ROOT / rel
            path.parent.mkdir(exist_ok=True)
            if not path.exists():
                written.append(path)
            path.write_text(source, encoding="utf-8")
        yield
    finally:
        for path in reversed(written):
            path.unlink()
            if path.name == "__init__.py":
                path.parent.rmdir()


def test_probe_a_wrong_way_import_fails() -> None:
    source = "from kilnwatch.store.models import Meter\n"
    with probe_files({"domain/_probe_wrong_way.py": source}):
        found = table_violations(modules(), allow_list())
    assert found == [
        "kilnwatch.domain._probe_wrong_way imports kilnwatch.store.models: not in the row of domain"
    ]


def test_probe_a_relative_wrong_way_import_fails() -> None:
    with probe_files({"domain/_probe_relative.py": "def f():\n    from ..verify import checks\n"}):
        found = table_violations(modules(), allow_list())
    assert found == [
        "kilnwatch.domain._probe_relative imports kilnwatch.verify.checks: not in the row of domain"
    ]


def test_probe_a_private_import_from_outside_fails() -> None:
    with probe_files(
        {"store/_probe_private.py": "X = 1\n",
         "ingest/probe_user.py": "from kilnwatch.store._probe_private import X\n"}
    ):  # fmt: skip
        found = private_violations(modules())
    assert found == [
        "kilnwatch.ingest.probe_user imports private kilnwatch.store._probe_private "
        "from outside kilnwatch.store"
    ]


def test_probe_a_cycle_fails() -> None:
    with probe_files(
        {"domain/probe_a.py": "from kilnwatch.domain import probe_b\n",
         "domain/probe_b.py": "def f():\n    from kilnwatch.domain.probe_c import x\n",
         "domain/probe_c.py": "from kilnwatch.domain.probe_a import *\nx = 1\n"}
    ):  # fmt: skip
        found = cycles(modules())
    assert found == [["kilnwatch.domain.probe_a", "kilnwatch.domain.probe_b",
                      "kilnwatch.domain.probe_c"]]  # fmt: skip


def test_probe_a_package_without_a_row_fails() -> None:
    with probe_files({"probeunlisted/__init__.py": ""}):
        found = table_violations(modules(), allow_list())
    assert found == ["probeunlisted has no row in docs/architecture.md"]


def test_probe_io_in_the_domain_fails() -> None:
    with probe_files({"domain/_probe_io.py": "import sqlalchemy\n"}):
        found = domain_io_violations(modules())
    assert found == ["kilnwatch.domain._probe_io (pure domain) imports sqlalchemy"]


def test_cli_command_list_is_pinned() -> None:
    from typer.main import get_command

    from kilnwatch.cli import app

    names = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert {"db", "import", "export", "user", "serve", "report", "verify", "schedule"} <= names
