"""Saved column mappings of existing systems' exports (docs/mappings.md): save, list, show,
delete, preview a file and import a file through one. Administrators only, like the file
uploads: an import is not scoped to a jurisdiction (a mapping may name any meter)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, UploadFile
from pydantic import BaseModel, Field

from kilnwatch.errors import InputError, PermissionDeniedError
from kilnwatch.identity import Principal, Role
from kilnwatch.ingest import mappings
from kilnwatch.ingest.tables import TextEncoding, named_encoding
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.store.repos.mappings import delete_mapping, get_mapping, list_mappings
from kilnwatch.web.deps import PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/mappings", tags=["mappings"])
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def require_admin(principal: PrincipalDep) -> Principal:
    if principal.role is not Role.ADMIN:
        raise PermissionDeniedError("only administrators manage and apply mappings")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


class MappingSave(BaseModel):
    source: str = Field("", max_length=200)
    spec: dict[str, Any]


class MappingPublic(BaseModel):
    name: str
    source: str
    spec: dict[str, Any]
    created_by: str
    updated_at: Any
    last_applied_at: Any = None


class Fault(BaseModel):
    file: str | None
    row: int | None
    field: str | None
    reason: str


class MappedReading(BaseModel):
    row: int
    meter_code: str | None
    ts: str
    value: str | None
    unit: str | None


class MappingPreview(BaseModel):
    columns: list[str]
    encoding: str | None
    readings: list[MappedReading]
    faults: list[Fault]


class MappedImport(BaseModel):
    source_rows: int
    readings: int
    accepted: int
    duplicates: int
    corrections: int
    rejected: int
    encoding: str | None
    faults: list[Fault]


def faults_of(errors: list[InputError]) -> list[Fault]:
    return [Fault(file=e.location.file, row=e.location.row, field=e.location.field,
                  reason=e.reason) for e in errors]  # fmt: skip


async def saved_upload(file: UploadFile, folder: Path) -> Path:
    """The upload in ``folder`` under its own (cleaned) name; too large is refused."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"larger than {MAX_UPLOAD_BYTES // 2**20} MiB", file=file.filename)
    name = Path(file.filename or "upload.csv").name.replace("/", "_") or "upload.csv"
    path = folder / name
    path.write_bytes(data)
    return path


def _encoding(name: str) -> TextEncoding | None:
    return named_encoding(name) if name else None


@router.get("")
def list_all(session: SessionDep, _: AdminDep) -> list[MappingPublic]:
    return [MappingPublic.model_validate(m, from_attributes=True) for m in list_mappings(session)]


@router.put("/{name}")
def save(session: SessionDep, admin: AdminDep, name: str, body: MappingSave) -> MappingPublic:
    """Create or replace the mapping ``name`` (the spec is checked first)."""
    mappings.save_spec(session, name, body.source, body.spec, admin.subject)
    return MappingPublic.model_validate(get_mapping(session, name), from_attributes=True)


@router.get("/{name}")
def show(session: SessionDep, _: AdminDep, name: str) -> MappingPublic:
    return MappingPublic.model_validate(get_mapping(session, name), from_attributes=True)


@router.delete("/{name}", status_code=204)
def delete(session: SessionDep, _: AdminDep, name: str) -> None:
    delete_mapping(session, name)


@router.post("/{name}/preview")
async def preview(
    session: SessionDep, settings: SettingsDep, _: AdminDep, name: str, file: UploadFile,
    encoding: Annotated[str, Form()] = "",
) -> MappingPreview:  # fmt: skip
    """The readings the first 20 rows of ``file`` give through the mapping; nothing stored."""
    spec = mappings.saved_spec(session, name)
    with tempfile.TemporaryDirectory(prefix="kilnwatch-mapping-") as folder:
        path = await saved_upload(file, Path(folder))
        table, chunk = mappings.preview_mapping(spec, path, settings.timezone,
                                                encoding=_encoding(encoding))  # fmt: skip
    readings = [MappedReading(row=r["row_no"], meter_code=r["meter_code"],
                              ts=r["ts"].isoformat(), value=r["value"], unit=r["unit"])
                for r in chunk.frame.iter_rows(named=True)]  # fmt: skip
    return MappingPreview(columns=list(table.columns), encoding=table.encoding,
                          readings=readings, faults=faults_of(chunk.faults))  # fmt: skip


@router.post("/{name}/apply")
async def apply(
    session: SessionDep, settings: SettingsDep, _: AdminDep, name: str, file: UploadFile,
    skip_invalid: Annotated[bool, Form()] = False, encoding: Annotated[str, Form()] = "",
) -> MappedImport:  # fmt: skip
    """Import ``file`` through the mapping: all-or-nothing (422 with every located fault)
    unless ``skip_invalid``."""
    policy = ValidationPolicy(local_tz=settings.timezone)
    with tempfile.TemporaryDirectory(prefix="kilnwatch-mapping-") as folder:
        path = await saved_upload(file, Path(folder))
        report = mappings.import_with_mapping(session, name, path, policy=policy,
                                              skip_invalid=skip_invalid,
                                              encoding=_encoding(encoding))  # fmt: skip
    return MappedImport(
        source_rows=report.source_rows, readings=report.readings, accepted=report.accepted,
        duplicates=report.duplicates, corrections=report.corrections, rejected=report.rejected,
        encoding=report.encoding, faults=faults_of(report.faults),
    )  # fmt: skip
