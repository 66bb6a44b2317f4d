"""One entry point from a report document to a file: ``render(doc, fmt, lang)``, and the
document as JSON (the API's twin of every file, with the same figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import quote

from kilnwatch.errors import InputError
from kilnwatch.reports.document import CellValue, Label, ReportDocument, Text
from kilnwatch.reports.labels import check_lang, text

Format = Literal["xlsx", "pdf", "csv"]
FORMATS: tuple[Format, ...] = ("xlsx", "pdf", "csv")
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class RenderedReport:
    content: bytes
    media_type: str
    filename: str
    """In the report's language (may hold Chinese)."""
    ascii_filename: str


def check_format(fmt: str) -> Format:
    for f in FORMATS:
        if f == fmt:
            return f
    raise InputError(f"unknown format {fmt!r}; use xlsx, pdf or csv", field="format")


def filename(doc: ReportDocument, fmt: str, lang: str = "en") -> str:
    """``kilnwatch-monthly-2025-03-Zibo.xlsx``; in ``zh-CN`` the scope keeps its Chinese name
    (send it as RFC 6266 ``filename*``, with the ASCII form as ``filename``)."""
    scope = doc.scope(lang) if isinstance(doc.scope, Text) else str(doc.scope or "all")
    ascii_only = lang == "en"
    safe = "".join(
        ch if (ch.isalnum() and (ch.isascii() or not ascii_only)) or ch in "-_" else "_"
        for ch in scope
    ).strip("_")[:40]
    return f"kilnwatch-{doc.name}-{doc.period}-{safe or doc.name}.{fmt}"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the UTF-8 ``filename*`` (RFC 6266)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c != '"' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def render(doc: ReportDocument, fmt: str, lang: str = "zh-CN") -> RenderedReport:
    """``doc`` as an XLSX, PDF or CSV file in ``lang`` (zh-CN or en)."""
    fmt, lang = check_format(fmt), check_lang(lang)
    if fmt == "xlsx":
        from kilnwatch.reports.xlsx import write_xlsx

        content = write_xlsx(doc, lang)
    elif fmt == "pdf":
        from kilnwatch.reports.pdf import write_pdf

        content = write_pdf(doc, lang)
    else:
        from kilnwatch.reports.csv_table import write_csv

        content = write_csv(doc, lang)
    return RenderedReport(content, MEDIA_TYPES[fmt], filename(doc, fmt, lang), filename(doc, fmt))


def _label(label: Label | None) -> dict[str, str] | None:
    if label is None:
        return None
    return {"zh": text(label, "zh-CN"), "en": text(label, "en")}


def _value(value: CellValue) -> Any:
    if isinstance(value, Text):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def document_json(doc: ReportDocument) -> dict[str, Any]:
    """The document with raw typed values (codes stay codes) and both languages of labels."""
    return {
        "name": doc.name,
        "title": _label(doc.title),
        "scope": _value(doc.scope),
        "period": doc.period,
        "generated_at": doc.generated_at.isoformat(),
        "timezone": doc.timezone,
        "facts": [
            {"label": _label(f.label), "value": _value(f.value), "kind": f.kind, "unit": f.unit}
            for f in doc.facts
        ],
        "sections": [
            {
                "key": s.key,
                "title": _label(s.title),
                "tables": [
                    {
                        "key": t.key,
                        "title": _label(t.title),
                        "columns": [
                            {
                                "key": c.key,
                                "kind": c.kind,
                                "unit": c.unit,
                                "digits": c.digits,
                                "codes": c.codes,
                                "header": _label(c.header_label),
                            }
                            for c in t.columns
                        ],
                        "rows": [
                            {c.key: _value(v) for c, v in zip(t.columns, row, strict=True)}
                            for row in t.rows
                        ],
                        "notes": [_label(n) for n in t.notes],
                    }
                    for t in s.tables
                ],
                "notes": [_label(n) for n in s.notes],
            }
            for s in doc.sections
        ],
        "notes": [_label(n) for n in doc.notes],
        "sources": [_label(n) for n in doc.sources],
    }


__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Format",
    "RenderedReport",
    "check_format",
    "content_disposition",
    "document_json",
    "filename",
    "render",
]
