"""Load a whole province directory (as ``kilnwatch simulate`` writes it) into the store:
registry, readings and the other sources, in that order. The caller commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry_load import import_registry
from kilnwatch.ingest.statements import import_sources
from kilnwatch.ingest.validate import ValidationPolicy


@dataclass
class DirectoryReport:
    registry_created: dict[str, int] = field(default_factory=dict)
    readings_stored: int = 0
    readings_duplicates: int = 0
    readings_rejected: int = 0
    sources_created: dict[str, int] = field(default_factory=dict)


def readings_file_of(directory: Path) -> Path | None:
    """The readings file of a directory: Parquet when present (faster), else CSV."""
    for name in ("readings.parquet", "readings.csv"):
        if (directory / name).exists():
            return directory / name
    return None


def load_directory(
    session: Session,
    directory: Path,
    *,
    policy: ValidationPolicy,
    on_progress: Callable[[int], None] | None = None,
) -> DirectoryReport:
    """Import every file of ``directory`` that kilnwatch knows. The registry and the sources are
    all-or-nothing; readings that fail validation go to dead letters with their reason."""
    report = DirectoryReport()
    report.registry_created = import_registry(session, directory).created
    readings = readings_file_of(directory)
    if readings is not None:
        r = import_readings_file(
            session, readings, skip_invalid=True, policy=policy, on_progress=on_progress
        )
        report.readings_stored, report.readings_duplicates = r.accepted, r.duplicates
        report.readings_rejected = r.rejected
    report.sources_created = import_sources(session, directory).created
    return report
