"""The FastAPI application factory: ``create_app(settings)``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kilnwatch import __version__
from kilnwatch.config import Settings
from kilnwatch.ingest.log.publisher import open_publisher
from kilnwatch.metrics import metrics_text
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.web import fmt
from kilnwatch.web.api import (
    accounting,
    auth,
    emissions,
    exports,
    findings,
    ingest,
    mappings,
    metering,
    programme,
    projects,
    readings,
    registry,
    report_schedules,
    reports,
    supervision,
)
from kilnwatch.web.errors import install_error_handlers
from kilnwatch.web.limits import reject_out_of_range_values
from kilnwatch.web.pages import install_pages
from kilnwatch.web.services.cache import FigureCache

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"
VENDOR = "/static/vendor"


API_MODULES = (
    auth,
    registry,
    readings,
    ingest,
    mappings,
    accounting,
    emissions,
    findings,
    report_schedules,  # before /reports/{name}
    reports,
    exports,
    supervision,
    metering,
    programme,
    projects,
)
"""The API's routers, in the order their routes are matched."""


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in API_MODULES:
        router.include_router(module.router)
    return router


@pass_context
def _localtime(ctx: Any, value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return fmt.localtime(value, ctx.get("tz", "Asia/Shanghai"), pattern)


@pass_context
def _period_label(ctx: Any, period: Any) -> str:
    from kilnwatch.web.services.labels import period_label

    return period_label(period, ctx["t"])


def make_templates() -> Jinja2Templates:
    web_root = resources.files("kilnwatch.web")
    templates = Jinja2Templates(directory=str(web_root / "templates"))
    env = templates.env
    env.auto_reload = False  # the templates ship with the package: no stat() per render
    env.globals.update(num=fmt.num, pct=fmt.pct, change=fmt.change, period_label=_period_label)
    env.filters["localtime"] = _localtime
    env.filters["num"] = fmt.num
    env.filters["pct"] = fmt.pct
    return templates


def install_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc from the files shipped in the package (no CDN, no fonts)."""

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="kilnwatch API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{VENDOR}/swagger-ui-dist/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui-dist/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-ui-dist/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=OPENAPI_URL,
            title="kilnwatch API",
            redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url="/static/favicon.svg",
            with_google_fonts=False,
        )


@asynccontextmanager
async def _ingest_log(app: FastAPI) -> AsyncIterator[None]:
    """The ingest log's connection (when ``Settings.ingest_log`` is set) for the app's life."""
    urls = app.state.settings.ingest_log
    publisher = await asyncio.to_thread(open_publisher, urls, "kilnwatch-web") if urls else None
    app.state.ingest_log = publisher
    try:
        yield
    finally:
        if publisher is not None:
            await asyncio.to_thread(publisher.close)


def install_health(app: FastAPI) -> None:
    """``/healthz`` (the database answers; the ingest log is connected when configured) and
    ``/metrics`` (Prometheus text format, this process's counters)."""

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> JSONResponse:
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = "ok"
        except SQLAlchemyError:
            database = "unavailable"
        publisher = getattr(request.app.state, "ingest_log", None)
        log = "off" if publisher is None else "ok" if publisher.connected else "unavailable"
        ok = database == "ok" and log != "unavailable"
        body = {"status": "ok" if ok else "unavailable", "database": database, "ingest_log": log}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body, content_type = metrics_text()
        return Response(body, media_type=content_type)


def create_app(settings: Settings | None = None, prewarm: bool = False) -> FastAPI:
    """Build the app for ``settings`` (read from the environment when not given); with
    ``prewarm`` (``kilnwatch serve``), the region pages' figures of the newest month are
    computed in the background whenever the data changes (``web/pages/common_figures.py``)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from kilnwatch.web.pages.common_figures import Prewarmer

        warmer = None
        if prewarm:
            warmer = Prewarmer(app.state.session_factory, app.state.figure_cache,
                               settings.timezone)  # fmt: skip
            warmer.start()
        async with _ingest_log(app):
            yield
        if warmer is not None:
            warmer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="kilnwatch",
        version=__version__,
        description="Supervision of energy-intensive, high-emission (两高) industries.",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(reject_out_of_range_values)],
    )
    engine = make_engine(
        settings, server=True, statement_timeout_s=settings.web_statement_timeout_s
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.templates = make_templates()
    app.state.figure_cache = FigureCache()
    web_root = resources.files("kilnwatch.web")
    app.mount("/static", StaticFiles(directory=str(web_root / "static")), name="static")
    install_error_handlers(app)
    install_docs(app)
    app.include_router(api_router())
    install_pages(app)
    install_health(app)
    return app


def serving_app() -> FastAPI:
    """The app of ``kilnwatch serve --workers N`` (each worker builds it from the environment)."""
    return create_app(prewarm=True)
