"""Schemas of the reports API: the catalogue, a report document as JSON, schedules, archive."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


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
