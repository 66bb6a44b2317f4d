"""Reports: the catalogue, a report as a file (XLSX/PDF/CSV) or as JSON with the same figures.

Every report is computed under the caller's principal (``store/repos/scope.py``), narrowed to
``city`` or ``enterprise`` when asked; a scope outside the caller's jurisdiction is not found.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from kilnwatch.domain.periods import Period
from kilnwatch.reports.catalogue import REPORTS, build_report
from kilnwatch.reports.document import Label, ReportDocument
from kilnwatch.reports.labels import text
from kilnwatch.reports.render import content_disposition, document_json, render
from kilnwatch.web.deps import PeriodDep, PrincipalDep, SessionDep, SettingsDep
from kilnwatch.web.schemas.reports import Bilingual, ReportDocumentPublic, ReportSpecPublic

router = APIRouter(prefix="/reports", tags=["reports"])

CityQuery = Annotated[str | None, Query(description="City code, 3703 or 370300")]
EnterpriseQuery = Annotated[str | None, Query(description="Enterprise USCC")]
Lang = Literal["zh-CN", "en"]


def _both(label: Label) -> Bilingual:
    return Bilingual(zh=text(label, "zh-CN"), en=text(label, "en"))


@router.get("")
def list_reports() -> list[ReportSpecPublic]:
    """Every report the platform produces, with its formats."""
    return [
        ReportSpecPublic(
            name=s.name,
            title=_both(s.title),
            description=_both(s.description),
            formats=list(s.formats),
            needs_enterprise=s.needs_enterprise,
        )
        for s in REPORTS.values()
    ]


def _document(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    name: str,
    period: Period,
    city: str | None,
    enterprise: str | None,
) -> ReportDocument:
    return build_report(
        session, principal, name, period, timezone=settings.timezone, city=city,
        enterprise=enterprise,
    )  # fmt: skip


@router.get("/{name}/data")
def report_data(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    name: str,
    period: PeriodDep,
    city: CityQuery = None,
    enterprise: EnterpriseQuery = None,
) -> ReportDocumentPublic:
    """The report's figures as JSON (the same document the file is written from)."""
    doc = _document(session, principal, settings, name, period, city, enterprise)
    return ReportDocumentPublic.model_validate(document_json(doc))


@router.get(
    "/{name}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/csv": {}}}},
)
def report_file(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    name: str,
    period: PeriodDep,
    format: Literal["xlsx", "pdf", "csv"] = "xlsx",  # noqa: A002 - the query parameter's name
    lang: Lang = "zh-CN",
    city: CityQuery = None,
    enterprise: EnterpriseQuery = None,
) -> Response:
    """The report as a file to download."""
    doc = _document(session, principal, settings, name, period, city, enterprise)
    rendered = render(doc, format, lang)
    return Response(
        rendered.content, media_type=rendered.media_type,
        headers={"Content-Disposition": content_disposition(rendered.filename)},
    )  # fmt: skip
