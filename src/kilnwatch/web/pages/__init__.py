"""Server-rendered pages. Each module listed in :data:`PAGE_MODULES` has a ``router`` and may
register navigation entries and entity-page sections (:mod:`.registry`) when imported.

To add a page: write ``web/pages/<capability>.py`` and add its name here (docs/web.md).
"""

from __future__ import annotations

from importlib import import_module

from fastapi import FastAPI

PAGE_MODULES = (
    "signin",
    "totp",
    "overview",
    "regions",
    "enterprise",
    "unit",
    "meter",
    "findings",
    "quality",
    "admin",
    "mappings",
    "supervision",
    "metering",
    "programme",
    "reports",
    "emissions",
    "projects",
    "departments",
)


def install_pages(app: FastAPI) -> None:
    for name in PAGE_MODULES:
        module = import_module(f"kilnwatch.web.pages.{name}")
        app.include_router(module.router)
