"""Schemas of the reports API: the catalogue, a report document as JSON, schedules, archive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from kilnwatch.web.schemas.common import PublicModel


class Bilingual(BaseModel):
    zh: str
    en: str


class ReportSpecPublic(BaseModel):
    name: str
    title: Bilingual
    description: Bilingual
    formats: list[str]
    needs_enterprise: bool


class ColumnPublic(BaseModel):
    key: str
    kind: str
    unit: str | None
    digits: int
    codes: str | None
    header: Bilingual


class TablePublic(BaseModel):
    key: str
    title: Bilingual
    columns: list[ColumnPublic]
    rows: list[dict[str, Any]]
    """One object per row, keyed by column; codes stay codes, names are {zh, en}."""
    notes: list[Bilingual]


class SectionPublic(BaseModel):
    key: str
    title: Bilingual
    tables: list[TablePublic]
    notes: list[Bilingual]


class FactPublic(BaseModel):
    label: Bilingual
    value: Any
    kind: str
    unit: str | None


class ReportDocumentPublic(BaseModel):
    """The figures of a report file, as the file has them."""

    name: str
    title: Bilingual
    scope: Any
    period: str
    generated_at: str
    timezone: str
    facts: list[FactPublic]
    sections: list[SectionPublic]
    notes: list[Bilingual]
    sources: list[Bilingual]


class ScheduleCreate(BaseModel):
    report: str
    rule: str
    """weekly or monthly: the previous complete week or month."""
    time_of_day: str
    """HH:MM in the platform's local time."""
    recipients: list[str] = []
    format: str = "xlsx"
    lang: str = "zh-CN"
    city: str | None = None
    enterprise: str | None = None
    weekday: int = 1
    day_of_month: int = 1


class SchedulePublic(PublicModel):
    id: int
    owner: str
    report: str
    city: str | None
    enterprise_uscc: str | None
    rule: str
    weekday: int
    day_of_month: int
    time_of_day: str
    recipients: list[str]
    format: str
    lang: str
    active: bool
    created_at: datetime
    next_due_at: datetime | None = None


class DeliveryPublic(PublicModel):
    recipient: str
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None


class ArchiveEntryPublic(PublicModel):
    id: int
    schedule_id: int | None
    report: str
    title: Bilingual
    period: str
    scope: str
    format: str
    lang: str
    status: str
    error: str | None
    filename: str | None
    size_bytes: int | None
    sha256: str | None
    due_at: datetime | None
    generated_at: datetime
    download_url: str | None
    deliveries: list[DeliveryPublic]


class ArchivePage(BaseModel):
    items: list[ArchiveEntryPublic]
    total: int
    offset: int
    limit: int
