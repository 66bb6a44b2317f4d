"""PDF writer of report documents: HTML from a Jinja2 template, rendered by WeasyPrint.

Chinese text needs a CJK font installed on the system (Debian ``fonts-noto-cjk`` or
``fonts-wqy-zenhei``; ``make install`` installs one when missing); charts are inline SVG from
:mod:`kilnwatch.reports.svg`, so no browser is involved.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from kilnwatch.reports.document import NUMERIC_KINDS, ReportDocument
from kilnwatch.reports.labels import cell_text, display, header, local_time, text
from kilnwatch.reports.svg import chart_svg


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("kilnwatch.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _context(doc: ReportDocument, lang: str) -> dict[str, Any]:
    tz = doc.timezone
    generated = local_time(doc.generated_at, tz)
    facts = [
        (text("report.scope", lang), display(doc.scope, "text", lang, tz)),
        (text("report.period", lang), doc.period),
        (text("report.generated_at", lang), f"{generated:%Y-%m-%d %H:%M} ({tz})"),
    ]
    for f in doc.facts:
        value = display(f.value, f.kind, lang, tz, digits=f.digits)
        unit = text(f"unit.{f.unit}", lang) if f.unit else ""
        facts.append((text(f.label, lang), f"{value} {unit}".strip()))
    sections = [
        {
            "title": text(s.title, lang),
            "notes": [text(n, lang) for n in s.notes],
            "tables": [
                {
                    "title": text(t.title, lang),
                    "headers": [header(c, lang) for c in t.columns],
                    "rows": [
                        [
                            (cell_text(v, c, lang, tz), c.kind in NUMERIC_KINDS)
                            for c, v in zip(t.columns, row, strict=True)
                        ]
                        for row in t.rows
                    ],
                    "chart": Markup(chart_svg(t, lang, tz)),  # built from escaped parts
                    "notes": [text(n, lang) for n in t.notes],
                }
                for t in s.tables
            ],
        }
        for s in doc.sections
    ]
    return {
        "lang": lang,
        "title": text(doc.title, lang),
        "period": doc.period,
        "facts": facts,
        "sections": sections,
        "notes": [text(n, lang) for n in doc.notes],
        "sources": [text(n, lang) for n in doc.sources],
        "notes_title": text("report.notes", lang),
        "sources_title": text("report.sources", lang),
    }


def render_html(doc: ReportDocument, lang: str = "zh-CN") -> str:
    return _environment().get_template("report.html.j2").render(**_context(doc, lang))


def write_pdf(doc: ReportDocument, lang: str = "zh-CN") -> bytes:
    """The PDF of ``doc`` in ``lang`` as bytes."""
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    pdf: bytes = HTML(string=render_html(doc, lang)).write_pdf()
    return pdf


__all__ = ["render_html", "write_pdf"]
