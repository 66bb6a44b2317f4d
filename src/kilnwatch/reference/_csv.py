"""Reading packaged reference tables (``load_*`` verb); shared by every table loader."""

from __future__ import annotations

import csv
from importlib import resources

from kilnwatch.errors import ReferenceDataError


def read_package_csv(package: str, name: str) -> list[dict[str, str]]:
    """Rows of a CSV file shipped inside ``package``, as dicts of stripped strings."""
    try:
        text = (resources.files(package) / name).read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"reference table {package}/{name} is missing") from exc
    return [
        {k.strip(): (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(text.splitlines())
    ]
