"""A finding's title and message in the user's language, formatted at display time from its
evidence (numbers in zh-CN format, times in the deployment's zone).

The catalogue has, per rule code, ``rule.<code>.title`` and ``rule.<code>.msg``; the message
is a template whose fields ``{path:fmt}`` name a value of the evidence (``metered.quantity``)
and a format: ``num``, ``pct`` (a fraction as %), ``chg`` (signed %), ``time`` (local),
``list`` (joined), ``text``. A rule without a template, or evidence without a named value,
falls back to the title and the stored message (verification's own text).
"""

from __future__ import annotations

import re
from typing import Any

from kilnwatch.web import fmt
from kilnwatch.web.i18n import Translator

_FIELD = re.compile(r"\{([\w.]+)(?::(\w+))?\}")


def lookup(evidence: Any, path: str) -> Any:
    value = evidence
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(path)
    return value


def _format(value: Any, kind: str | None, tz: str) -> str:
    if kind == "num":
        return fmt.num(value)
    if kind == "pct":
        return fmt.pct(value)
    if kind == "chg":
        return fmt.change(value)
    if kind == "time":
        return fmt.localtime(value, tz)
    if kind == "list":
        items = [v.get("code", v) if isinstance(v, dict) else v for v in value or []]
        shown = ", ".join(str(v) for v in items[:5])
        return shown + (f" … (+{len(items) - 5})" if len(items) > 5 else "")
    return str(value)


def rule_title(rule_code: str, t: Translator) -> str:
    key = f"rule.{rule_code}.title"
    return t(key) if t.has(key) else rule_code.rsplit(".", 1)[-1].replace("_", " ")


def finding_message(rule_code: str, evidence: Any, stored: str, t: Translator, tz: str) -> str:
    """The finding's message in the user's language from its evidence: the catalogue's
    ``rule.<code>.msg.<basis>`` when the evidence names a ``basis`` with a message of its own
    (one rule, two ways of finding: a capped meter's pile-up at its maximum or its flat run),
    else ``rule.<code>.msg``; the stored (English) message when there is none or a field is
    missing."""
    basis = evidence.get("basis") if isinstance(evidence, dict) else None
    key = f"rule.{rule_code}.msg"
    if isinstance(basis, str) and t.has(f"{key}.{basis}"):
        key = f"{key}.{basis}"
    if not t.has(key):
        return stored
    template = t[key]
    try:
        return _FIELD.sub(lambda m: _format(lookup(evidence, m[1]), m[2], tz), template)
    except (KeyError, TypeError, ValueError):
        return stored


def evidence_label(path: str, t: Translator) -> str:
    """An evidence path (``gaps.0.after``) in the user's language: each named part through the
    catalogue's ``ev.<name>``, list positions as 1-based numbers (缺口 1 · 之后)."""
    parts = []
    for part in path.split("."):
        if part.isdigit():
            parts.append(str(int(part) + 1))
        else:
            parts.append(t(f"ev.{part}") if t.has(f"ev.{part}") else part)
    return " · ".join(parts)


def evidence_rows(evidence: Any, tz: str, prefix: str = "") -> list[tuple[str, str]]:
    """The evidence flattened to (path, formatted value) for the evidence panel; long
    lists (daily series) are summarised by their length."""
    rows: list[tuple[str, str]] = []
    if isinstance(evidence, dict):
        for k, v in evidence.items():
            rows += evidence_rows(v, tz, f"{prefix}{k}.")
        return rows
    path = prefix.rstrip(".")
    if isinstance(evidence, list):
        if evidence and all(isinstance(v, int | float) for v in evidence) and len(evidence) > 6:
            rows.append((path, f"[{len(evidence)}] min {fmt.num(min(evidence))}, "
                               f"max {fmt.num(max(evidence))}"))  # fmt: skip
        elif evidence and all(isinstance(v, dict) for v in evidence):
            for i, v in enumerate(evidence[:20]):
                rows += evidence_rows(v, tz, f"{path}.{i}.")
        else:
            rows.append((path, _format(evidence, "list", tz)))
        return rows
    if isinstance(evidence, bool) or evidence is None:
        rows.append((path, str(evidence)))
    elif isinstance(evidence, int | float):
        kind = "pct" if path.endswith(("fraction", "share")) else "num"
        rows.append((path, _format(evidence, kind, tz)))
    elif isinstance(evidence, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", evidence):
        rows.append((path, fmt.localtime(evidence, tz)))
    else:
        rows.append((path, str(evidence)))
    return rows
