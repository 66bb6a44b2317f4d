"""Every public domain function and class documents each parameter with its unit and cites
its source (numpydoc ``Parameters``, ``Returns``, ``References``; STYLE.md convention 2)."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import kilnwatch.domain

DOMAIN = Path(kilnwatch.domain.__file__).parent
RULE = re.compile(r"-{3,}")
UNIT_AT_END = re.compile(r"\[[^\[\]]+\]$")
Definition = ast.FunctionDef | ast.ClassDef


def public_definitions(directory: Path) -> Iterator[tuple[str, Definition]]:
    """(``module.name``, node) of every public top-level function and class of the public
    modules in ``directory``."""
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, Definition) and not node.name.startswith("_"):
                yield f"{path.stem}.{node.name}", node


def sections(docstring: str) -> dict[str, list[str]]:
    """The numpydoc sections of a docstring: title -> its lines (without the rule)."""
    lines = inspect.cleandoc(docstring).splitlines()
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for i, line in enumerate(lines):
        if RULE.fullmatch(line):
            continue
        if i + 1 < len(lines) and line.strip() and RULE.fullmatch(lines[i + 1]):
            current = found.setdefault(line.strip(), [])
        elif current is not None:
            current.append(line)
    return found


def documented_parameters(lines: list[str]) -> dict[str, str]:
    """Parameter name -> its description, from the lines of a ``Parameters`` section.

    An entry starts unindented (``name : type`` or ``a, b : type``); its description is the
    indented lines below it, joined.
    """
    entries: dict[str, str] = {}
    names: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        if not line.startswith(" "):
            names = [n.strip() for n in line.split(" : ")[0].split(",")]
            entries.update(dict.fromkeys(names, ""))
        else:
            for n in names:
                entries[n] = f"{entries[n]} {line.strip()}".strip()
    return entries


def signature_parameters(node: Definition) -> list[str]:
    """The parameters a caller passes: a function's arguments, a dataclass's fields, or the
    arguments of a class's ``__init__``."""
    if isinstance(node, ast.ClassDef):
        init = next(
            (s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"),
            None,
        )
        if init is None:
            return [
                s.target.id
                for s in node.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            ]
        node = init
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return [n for n in names if n not in ("self", "cls")]


def docstring_problems(node: Definition) -> list[str]:
    """What the docstring of ``node`` lacks; empty when it is complete."""
    docstring = ast.get_docstring(node)
    if not docstring:
        return ["no docstring"]
    found = sections(docstring)
    wanted = signature_parameters(node)
    problems = []
    if wanted and "Parameters" not in found:
        problems.append("no Parameters section")
    if isinstance(node, ast.FunctionDef) and "Returns" not in found:
        problems.append("no Returns section")
    if not any(".. [" in line for line in found.get("References", [])):
        problems.append("no References section with a [n] entry")
    documented = documented_parameters(found.get("Parameters", []))
    problems += [f"parameter {n!r} undocumented" for n in wanted if n not in documented]
    problems += [f"{n!r} documented but not a parameter" for n in documented if n not in wanted]
    problems += [
        f"parameter {n!r} has no [unit] at the end"
        for n, text in documented.items()
        if not UNIT_AT_END.search(text)
    ]
    return problems


DEFINITIONS = dict(public_definitions(DOMAIN))


def test_the_scan_sees_every_public_domain_definition() -> None:
    names = {name.split(".")[1] for name in DEFINITIONS}
    assert {"energy_kgce", "classify", "co2_combustion_t", "uscc_problem", "convert"} <= names
    assert {"Classification", "ConversionResult", "FactorEmission"} <= names
    assert len(DEFINITIONS) >= 40


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_public_domain_definition_is_documented_with_units_and_references(name: str) -> None:
    assert docstring_problems(DEFINITIONS[name]) == []


def _node(source: str) -> Definition:
    node = ast.parse(inspect.cleandoc(source)).body[0]
    assert isinstance(node, Definition)
    return node


GOOD = '''
def co2_t(mass_t: float, *, factor: float = 1.0) -> float:
    """CO2.

    Parameters
    ----------
    mass_t : float
        Mass burned. [t]
    factor : float
        Factor, across
        two lines. [tCO₂/t]

    Returns
    -------
    float
        CO2 [tCO₂].

    References
    ----------
    .. [1] A standard, clause 1.
    """
'''


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("Parameters", "Params"), "no Parameters section"),
        (("Returns", "Gives"), "no Returns section"),
        ((".. [1] A standard, clause 1.", "none"), "no References section"),
        (("    factor : float\n", "    scale : float\n"), "parameter 'factor' undocumented"),
        (("two lines. [tCO₂/t]", "two lines."), "parameter 'factor' has no [unit] at the end"),
        (("Mass burned. [t]", "Mass burned [t] here."), "parameter 'mass_t' has no [unit]"),
    ],
)
def test_the_check_fails_on_each_kind_of_gap(change: tuple[str, str], problem: str) -> None:
    assert docstring_problems(_node(GOOD)) == []
    old, new = change
    broken = GOOD.replace(old, new)
    assert broken != GOOD
    assert any(p.startswith(problem) for p in docstring_problems(_node(broken)))


def test_a_dataclass_documents_its_fields() -> None:
    source = '''
    class Emission:
        """An emission.

        Parameters
        ----------
        co2_t : float
            The emission. [tCO₂]

        References
        ----------
        .. [1] A guideline.
        """

        co2_t: float
        source: str
    '''
    assert docstring_problems(_node(source)) == ["parameter 'source' undocumented"]
