"""Bulk exports, streamed: ``GET /api/v1/exports/{kind}`` (readings, rollups, findings,
credibility) as CSV or Parquet, filtered by region, industry, enterprise, meter and time range,
inside the caller's jurisdiction. The response is written chunk by chunk from a server-side
cursor of its own session, so memory stays flat however large the export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from kilnwatch.identity import Principal
from kilnwatch.reports.export import ExportFilter, export_rows
from kilnwatch.reports.export_writers import EXPORT_MEDIA_TYPES, export_stream
from kilnwatch.web.deps import PrincipalDep

router = APIRouter(prefix="/exports", tags=["exports"])

Kind = Literal["readings", "rollups", "findings", "credibility"]


def _stream(
    factory: sessionmaker[Session], principal: Principal, kind: str, f: ExportFilter, fmt: str
) -> Iterator[bytes]:
    with factory() as session:
        yield from export_stream(export_rows(session, principal, kind, f), fmt)


@router.get(
    "/{kind}",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def export(
    request: Request,
    principal: PrincipalDep,
    kind: Kind,
    start: Annotated[datetime, Query(description="ISO 8601 with offset")],
    end: Annotated[datetime, Query(description="ISO 8601 with offset (exclusive)")],
    format: Literal["csv", "parquet"] = "csv",  # noqa: A002 - the query parameter's name
    city: Annotated[str | None, Query(description="Region code or prefix")] = None,
    industry: str | None = None,
    enterprise: Annotated[str | None, Query(description="Enterprise USCC")] = None,
    meter: Annotated[str | None, Query(description="Meter code")] = None,
    grain: Literal["hour", "day", "month"] = "day",
) -> StreamingResponse:
    """The rows as a streamed file (first chunk as soon as the query yields)."""
    f = ExportFilter(start, end, city, industry, enterprise, meter, grain)
    name = f"kilnwatch-{kind}-{start:%Y%m%d}-{end:%Y%m%d}.{format}"
    return StreamingResponse(
        _stream(request.app.state.session_factory, principal, kind, f, format),
        media_type=EXPORT_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
