"""Import a whole province folder (as ``kilnwatch simulate`` writes it) into the store:
registry, readings, external sources and discharge permits, in that order. The caller commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from kilnwatch.ingest.external_sources import import_sources
from kilnwatch.ingest.permits import import_permits
from kilnwatch.ingest.pipeline import ReadingCounts
from kilnwatch.ingest.readings_file import import_readings_file
from kilnwatch.ingest.registry import import_registry
from kilnwatch.ingest.validate import ValidationPolicy


@dataclass
class FolderImportReport:
    """Rows created per registry and source kind, and the readings by outcome."""

    registry_created: dict[str, int] = field(default_factory=dict)
    readings: ReadingCounts = field(default_factory=ReadingCounts)
    sources_created: dict[str, int] = field(default_factory=dict)


def readings_file_of(folder: Path) -> Path | None:
    """The readings file of a folder: Parquet when present (faster), else CSV."""
    for name in ("readings.parquet", "readings.csv"):
        if (folder / name).exists():
            return folder / name
    return None


def import_folder(
    session: Session,
    folder: Path,
    *,
    policy: ValidationPolicy,
    on_progress: Callable[[int], None] | None = None,
) -> FolderImportReport:
    """Import every file of ``folder`` that kilnwatch knows. The registry and the sources are
    all-or-nothing; readings that fail validation go to dead letters with their reason."""
    report = FolderImportReport()
    report.registry_created = import_registry(session, folder).created
    readings = readings_file_of(folder)
    if readings is not None:
        report.readings = import_readings_file(
            session, readings, skip_invalid=True, policy=policy, on_progress=on_progress
        )
    report.sources_created = import_sources(session, folder).created
    if (folder / "permits.csv").exists():
        report.sources_created |= import_permits(session, folder / "permits.csv").created
    return report
