"""The FastAPI application factory: ``create_app(settings)``."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from kilnwatch import __version__
from kilnwatch.config import Settings
from kilnwatch.store.engine import make_engine, make_session_factory
from kilnwatch.web.api import (
    accounting,
    auth,
    exports,
    findings,
    ingest,
    registry,
    report_schedules,
    reports,
)
from kilnwatch.web.errors import install_error_handlers
from kilnwatch.web.pages import overview

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(auth.router)
    router.include_router(registry.router)
    router.include_router(ingest.router)
    router.include_router(accounting.router)
    router.include_router(findings.router)
    router.include_router(report_schedules.router)  # before /reports/{name}
    router.include_router(reports.router)
    router.include_router(exports.router)
    return router


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (read from the environment when not given)."""
    settings = settings or Settings()
    app = FastAPI(
        title="kilnwatch",
        version=__version__,
        description="Supervision of energy-intensive, high-emission (两高) industries.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    web_root = resources.files("kilnwatch.web")
    app.state.templates = Jinja2Templates(directory=str(web_root / "templates"))
    app.mount("/static", StaticFiles(directory=str(web_root / "static")), name="static")
    install_error_handlers(app)
    app.include_router(api_router())
    app.include_router(overview.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
