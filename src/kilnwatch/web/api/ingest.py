"""Ingest endpoints: gateways post readings (HTTP Basic ``gateway_code:secret``); users list
dead letters within their jurisdiction.

``POST /api/v1/ingest/readings`` takes the JSON payload of docs/formats.md (``{"readings":
[...]}`` or one reading) or ``text/csv`` in the readings CSV format. The response counts
accepted, duplicate and rejected rows and gives each rejected row's reason code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel

from kilnwatch.errors import AuthenticationError, InputError, UnavailableError
from kilnwatch.ingest.gateways import SecretCheck, gateway_by_code
from kilnwatch.ingest.log.publisher import PublishFailed
from kilnwatch.ingest.payloads import parse_csv_readings, parse_json_readings
from kilnwatch.ingest.pipeline import Delivery, count_stored, ingest_readings
from kilnwatch.ingest.validate import GatewayInfo, ValidationPolicy
from kilnwatch.metrics import READINGS_RECEIVED
from kilnwatch.store.models import SOURCE_CODES
from kilnwatch.store.repos.dead_letters import DeadLetterFilter, list_dead_letters
from kilnwatch.web.deps import PrincipalDep, SessionDep, SettingsDep
from kilnwatch.web.schemas.common import PageOf, PageQuery, PublicModel, page_of

router = APIRouter(prefix="/ingest", tags=["ingest"])
basic = HTTPBasic(auto_error=False, realm="kilnwatch gateways")
_secrets = SecretCheck()
MAX_BODY_BYTES = 20 * 1024 * 1024


class RowRejection(BaseModel):
    row: int | None
    code: str
    field: str | None
    message: str


class IngestResponse(BaseModel):
    batch_id: int
    received: int
    accepted: int
    duplicates: int
    corrections: int
    rejected: int
    reasons: dict[str, int]
    rejections: list[RowRejection]


class DeadLettersQuery(PageQuery):
    """Filters of the dead letters: rejection code, source (``file``, ``http``, ``mqtt`` …),
    received at or after ``since``, and the delivering batch."""

    reason: str | None = None
    source: str | None = None
    since: datetime | None = None
    batch_id: int | None = None


class DeadLetterPublic(PublicModel):
    id: int
    source: int
    source_ref: str
    gateway_id: int | None
    enterprise_id: int | None
    batch_id: int | None
    row_no: int | None
    payload: str
    reason: str
    message: str
    received_at: datetime


def current_gateway(
    session: SessionDep,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
) -> GatewayInfo:
    """The gateway named and proven by HTTP Basic credentials (a sync dependency: FastAPI runs
    it in a worker thread, so scrypt never holds up the event loop)."""
    if credentials is None:
        raise AuthenticationError("send HTTP Basic credentials gateway_code:secret")
    entry = gateway_by_code(session, credentials.username)
    if entry is None or not _secrets.verify(credentials.password, entry.secret_hash):
        raise AuthenticationError("unknown gateway or wrong secret")
    return entry.gateway


async def request_body(request: Request) -> tuple[str, bytes]:
    """Content type and body of the request (size-limited)."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InputError(f"body larger than {MAX_BODY_BYTES} bytes", code="ingest.too_large")
    return request.headers.get("content-type", "application/json"), body


class IngestQueued(BaseModel):
    """The answer when the readings went to the ingest log (``Settings.ingest_log``): they
    are stored by a writer; rejected rows appear in the dead letters."""

    received: int
    published: int
    messages: int
    duplicate_messages: int


@router.post(
    "/readings",
    response_model=IngestResponse,
    responses={202: {"model": IngestQueued, "description": "published to the ingest log"}},
)
def post_readings(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    gateway: Annotated[GatewayInfo, Depends(current_gateway)],
    payload: Annotated[tuple[str, bytes], Depends(request_body)],
) -> IngestResponse | JSONResponse:
    """Store a batch of readings from the authenticated gateway (or, with the ingest log
    configured, publish it for the writers and answer 202 once JetStream has it)."""
    content_type, body = payload
    csv_body = content_type.split(";")[0].strip().lower() in ("text/csv", "application/csv")
    rows = parse_csv_readings(body) if csv_body else parse_json_readings(body)
    READINGS_RECEIVED.labels("http").inc(len(rows))
    publisher = getattr(request.app.state, "ingest_log", None)
    if publisher is not None:
        try:
            done = publisher.publish([Delivery("http", gateway.code, rows, gateway)])
        except PublishFailed as exc:
            raise UnavailableError(f"ingest log: {exc}") from None
        queued = IngestQueued(received=len(rows), published=done.readings, messages=done.messages,
                              duplicate_messages=done.duplicate_messages)  # fmt: skip
        return JSONResponse(queued.model_dump(), status_code=202)
    policy = ValidationPolicy.of(settings)
    result = ingest_readings(session, rows, "http", gateway.code, gateway=gateway, policy=policy)
    count_stored("http", result)
    return IngestResponse(
        batch_id=result.batch_id,
        received=result.received,
        accepted=result.accepted,
        duplicates=result.duplicates,
        corrections=result.corrections,
        rejected=len(result.rejected),
        reasons=result.reasons(),
        rejections=[
            RowRejection(row=r.row_no, code=r.code, field=r.field, message=r.message)
            for r in result.rejected
        ],  # fmt: skip
    )


@router.get("/dead-letters")
def get_dead_letters(
    session: SessionDep, principal: PrincipalDep, query: Annotated[DeadLettersQuery, Query()]
) -> PageOf[DeadLetterPublic]:
    """Rejected values, newest first, within the caller's jurisdiction."""
    q = query
    if q.source is not None and q.source not in SOURCE_CODES:
        raise InputError(f"source must be one of {sorted(SOURCE_CODES)}", field="source")
    f = DeadLetterFilter(q.reason, SOURCE_CODES.get(q.source or ""), q.since, q.batch_id)
    found = list_dead_letters(session, principal, f, q.offset, q.limit)
    return PageOf[DeadLetterPublic].model_validate(page_of(found, DeadLetterPublic))
