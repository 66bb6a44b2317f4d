"""The simulator's truth files of project control (``projects/*_truth.csv``)."""

from __future__ import annotations

import csv
from pathlib import Path


def truth(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / "projects" / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
