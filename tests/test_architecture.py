"""Data flows one way: ingest -> store -> domain/verify -> web/reports. This walks every
module's imports and fails when a layer reaches the wrong way."""

from __future__ import annotations

import ast
from pathlib import Path

import kilnwatch

ROOT = Path(kilnwatch.__file__).parent

# For each package: project packages it must NOT import.
FORBIDDEN: dict[str, set[str]] = {
    "domain": {"store", "web", "cli", "ingest", "verify", "analytics", "reports", "sim",
               "supervise", "config", "identity", "accounting", "formats"},
    "reference": {"store", "web", "cli", "ingest", "verify", "analytics", "reports", "sim",
                  "supervise", "domain", "accounting", "formats"},
    "store": {"web", "cli", "ingest", "verify", "analytics", "reports", "sim", "supervise",
              "accounting"},
    "ingest": {"web", "cli", "verify", "analytics", "reports", "supervise", "accounting", "sim"},
    "verify": {"web", "cli", "reports", "sim", "accounting"},
    "analytics": {"web", "cli", "reports", "sim", "accounting"},
    "accounting": {"web", "cli", "ingest", "verify", "sim", "supervise"},
    "reports": {"web", "cli", "ingest"},
    "sim": {"web", "cli", "verify", "analytics", "reports", "supervise", "store", "accounting"},
    "web": {"cli"},
    "forward": {"web", "cli", "verify", "analytics", "reports", "sim", "supervise", "collect"},
    "collect": {"store", "web", "cli", "verify", "analytics", "reports", "sim",
                "supervise", "forward", "config", "identity"},
}  # fmt: skip
# Third-party modules that mean I/O and are banned from the pure domain layer.
DOMAIN_BANNED = {"sqlalchemy", "fastapi", "paho", "httpx", "psycopg", "logging", "os", "polars"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        layer = parts[0] if len(parts) > 1 else None
        if layer not in FORBIDDEN:
            continue
        for name in _imports(path):
            top = name.split(".")
            if top[0] == "kilnwatch" and len(top) > 1 and top[1] in FORBIDDEN[layer]:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
            if layer == "domain" and top[0] in DOMAIN_BANNED:
                found.append(f"{path.relative_to(ROOT)} (pure domain) imports {name}")
    return found


def test_data_flows_one_way() -> None:
    assert _violations() == []


def test_guard_catches_a_wrong_way_import(tmp_path: Path, monkeypatch: object) -> None:
    bad = ROOT / "domain" / "_guard_probe_tmp.py"
    bad.write_text("from kilnwatch.store.models import Meter\nimport sqlalchemy\n")
    try:
        found = _violations()
    finally:
        bad.unlink()
    assert "domain/_guard_probe_tmp.py imports kilnwatch.store.models" in found
    assert "domain/_guard_probe_tmp.py (pure domain) imports sqlalchemy" in found


def test_cli_command_list_is_pinned() -> None:
    from typer.main import get_command

    from kilnwatch.cli import app

    names = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert {"db", "import", "export", "user", "serve", "forward", "collect"} <= names
