"""Column mappings of existing systems (接入现有监测系统, ``/admin/mappings``): draft one from a
sample file's header, edit and save it under a name, then preview and import every later
export of that source through it (docs/mappings.md). Administrators only, like the uploads.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, UploadFile
from fastapi.responses import Response

from kilnwatch.errors import ImportRejected, InputError
from kilnwatch.ingest import mappings
from kilnwatch.ingest.validate import ValidationPolicy
from kilnwatch.store.repos.mappings import get_mapping, list_mappings
from kilnwatch.web.api.mappings import saved_upload
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.registry import NavItem, add_nav, admin_only
from kilnwatch.web.pages.tables import Col, Table

router = page_router()
add_nav(NavItem("mappings", "nav.mappings", "/admin/mappings", order=82, visible=admin_only))

FAULT_COLS = (Col("row", "col.row", "num"), Col("field", "col.field", "code"),
              Col("reason", "col.reason"))  # fmt: skip
READING_COLS = (Col("row_no", "col.row", "num"), Col("meter_code", "col.meter", "code"),
                Col("ts", "col.time", "time"), Col("value", "col.value", "code"),
                Col("unit", "col.unit", "code"))  # fmt: skip
LIST_COLS = (Col("name", "col.name", "code", link="href"), Col("source", "col.source"),
             Col("updated_at", "mappings.updated", "time"),
             Col("last_applied_at", "mappings.last_applied", "time"))  # fmt: skip


def _faults(errors: list[InputError]) -> Table:
    rows = [{"row": e.location.row, "field": e.location.field, "reason": e.reason}
            for e in errors]  # fmt: skip
    return Table("faults", FAULT_COLS, rows, empty="table.no_row_errors")


def _page(env: PageEnv, ctx: dict[str, Any], tables: list[Table], status: int = 200) -> Response:
    listing = [{"name": m.name, "href": f"/admin/mappings/{m.name}", "source": m.source,
                "updated_at": m.updated_at, "last_applied_at": m.last_applied_at}
               for m in list_mappings(env.db)]  # fmt: skip
    crumbs: list[tuple[str, str | None]] = [(env.t("nav.mappings"), "/admin/mappings")]
    if ctx.get("name"):
        crumbs.append((ctx["name"], None))
    base = {"crumbs": crumbs, "name": "", "source": "", "spec_json": "", "columns": [],
            "result": None, "error": None}  # fmt: skip
    base.update(ctx)
    tables = [Table("mappings", LIST_COLS, listing, empty="mappings.none"), *tables]
    return env.render("mappings.html", base, tables, status_code=status)


@router.get("/admin/mappings")
def mappings_page(env: SignedIn) -> Response:
    env.require_admin()
    return _page(env, {"done": env.request.query_params.get("done")}, [])


@router.post("/admin/mappings/draft")
async def draft(env: SignedIn, file: UploadFile, unit: Annotated[str, Form()] = "kWh") -> Response:
    """A draft mapping from a sample export's header, to correct and save."""
    env.require_admin()
    with tempfile.TemporaryDirectory(prefix="kilnwatch-mapping-") as folder:
        path = await saved_upload(file, Path(folder))
        table = mappings.read_source(path, mappings.MappingSpec(ts_column=""))
    spec = json.dumps(mappings.guess_spec(table.columns, unit), ensure_ascii=False, indent=2)
    return _page(env, {"spec_json": spec, "columns": table.columns, "sample": table.file}, [])


@router.post("/admin/mappings")
def save(
    env: SignedIn,
    name: Annotated[str, Form(max_length=64)],
    spec: Annotated[str, Form(max_length=200_000)],
    source: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check and save a mapping (a mapping of the same name is replaced)."""
    env.require_admin()
    try:
        data = json.loads(spec)
        if not isinstance(data, dict):
            raise InputError("a mapping is a JSON object", field="spec")
        mappings.save_spec(env.db, name, source, data, env.me.subject)
    except (InputError, json.JSONDecodeError) as exc:
        env.db.rollback()
        reason = exc.message if isinstance(exc, InputError) else f"not JSON: {exc}"
        ctx = {"name": name, "source": source, "spec_json": spec, "error": reason, "new": True}
        return _page(env, ctx, [], 422)
    return done(env, f"/admin/mappings/{name.strip()}?done=saved")


def _mapping_ctx(env: PageEnv, name: str) -> dict[str, Any]:
    row = get_mapping(env.db, name)
    return {"name": row.name, "source": row.source, "done": env.request.query_params.get("done"),
            "spec_json": json.dumps(row.spec, ensure_ascii=False, indent=2)}  # fmt: skip


@router.get("/admin/mappings/{name}")
def mapping_page(env: SignedIn, name: str) -> Response:
    env.require_admin()
    return _page(env, _mapping_ctx(env, name), [])


@router.post("/admin/mappings/{name}/run")
async def run(
    env: SignedIn,
    name: str,
    file: UploadFile,
    action: Annotated[str, Form()] = "preview",
    skip_invalid: Annotated[str, Form()] = "",
) -> Response:
    """Preview (nothing stored) or import a file through the mapping."""
    env.require_admin()
    ctx = _mapping_ctx(env, name)
    spec = mappings.parse_spec(get_mapping(env.db, name).spec)
    with tempfile.TemporaryDirectory(prefix="kilnwatch-mapping-") as folder:
        path = await saved_upload(file, Path(folder))
        if action == "preview":
            table, chunk = mappings.preview_mapping(spec, path, env.tz)
            rows = list(chunk.frame.iter_rows(named=True))
            ctx["result"] = {"kind": "preview", "file": table.file, "encoding": table.encoding}
            tables = [Table("readings", READING_COLS, rows), _faults(chunk.faults)]
            return _page(env, ctx, tables)
        savepoint = env.db.begin_nested()
        try:
            report = mappings.import_with_mapping(
                env.db, name, path, policy=ValidationPolicy(local_tz=env.tz),
                skip_invalid=bool(skip_invalid),
            )  # fmt: skip
        except ImportRejected as exc:
            savepoint.rollback()
            ctx["result"] = {"kind": "refused", "file": path.name, "n": len(exc.errors)}
            return _page(env, ctx, [_faults(exc.errors)], 422)
        savepoint.commit()
    ctx["result"] = {"kind": "imported", "file": path.name, "report": report}
    return _page(env, ctx, [_faults(report.faults)])
