"""Administration: users and roles (``/admin/users``) and uploads of registry, readings and
source files from the browser (``/admin/uploads``), with the importers' row errors in a table.

Users are administrators' business. Uploads are open to every user who may upload
(``web/services/uploads.py``: region users everything within their region, an enterprise its
readings and sources): a file with a row outside the user's jurisdiction is refused whole,
each such row reported. An upload is all-or-nothing unless "import the valid rows" is ticked,
exactly as on the command line; nothing of a refused file is kept.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.errors import ImportRejected, InputError, KilnwatchError, NotFoundError
from kilnwatch.identity import Role
from kilnwatch.store.models import Enterprise, User
from kilnwatch.store.repos.users import add_user
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.labels import region_name
from kilnwatch.web.services.uploads import KINDS, outside_scope, upload_kinds

router = page_router()
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ERROR_COLS = (Col("file", "col.file", "code"), Col("row", "col.row", "num"),
              Col("field", "col.field", "code"), Col("reason", "col.reason"))  # fmt: skip


def _users_table(env: PageEnv) -> Table:
    users = env.db.execute(
        select(User, Enterprise.name).outerjoin(Enterprise, Enterprise.id == User.enterprise_id)
        .order_by(User.username)
    ).all()  # fmt: skip
    rows = [
        {"username": u.username, "display_name": u.display_name, "role": u.role,
         "region": region_name(u.region_code, env.t) if u.region_code else None,
         "enterprise": name, "active": "yes" if u.active else "no", "created_at": u.created_at}
        for u, name in users
    ]  # fmt: skip
    return Table("users", [
        Col("username", "col.username", "code"), Col("display_name", "col.name"),
        Col("role", "col.role", "badge", badge_prefix="role."), Col("region", "col.region"),
        Col("enterprise", "col.enterprise"),
        Col("active", "col.active", "badge", badge_prefix="yesno."),
        Col("created_at", "col.created_at", "time"),
    ], rows)  # fmt: skip


def _users_page(
    env: PageEnv, error: str | None = None, done: str | None = None, status: int = 200
) -> Response:
    context = {"roles": [r.value for r in Role], "error": error, "done": done,
               "crumbs": [(env.t("nav.users"), None)]}  # fmt: skip
    return env.render("admin_users.html", context, [_users_table(env)], status_code=status)


@router.get("/admin/users")
def users_page(env: SignedIn) -> Response:
    env.require_admin()
    return _users_page(env, done=env.request.query_params.get("done"))


@router.post("/admin/users")
def add_user_form(
    env: SignedIn,
    username: Annotated[str, Form(min_length=2, max_length=64)],
    role: Annotated[str, Form()],
    password: Annotated[str, Form(max_length=256)],
    region: Annotated[str, Form(max_length=6)] = "",
    enterprise: Annotated[str, Form(max_length=18)] = "",
    display_name: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    env.require_admin()
    try:
        add_user(env.db, username.strip(), password, Role(role), region or None,
                 enterprise or None, display_name)  # fmt: skip
    except (InputError, ValueError) as exc:
        env.db.rollback()
        message = exc.message if isinstance(exc, KilnwatchError) else str(exc)
        return _users_page(env, error=message, status=422)
    return done(env, f"/admin/users?done={username.strip()}")


@router.post("/admin/users/{username}/active")
def set_active(env: SignedIn, username: str, active: Annotated[str, Form()]) -> Response:
    env.require_admin()
    user = env.db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"user {username} not found")
    if user.username == env.me.subject:
        raise InputError("you cannot disable yourself", field="active")
    user.active = active == "yes"
    env.db.flush()
    return done(env, "/admin/users")


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).name)[:120]
    return cleaned or "upload.csv"


def _import(
    env: PageEnv, kind: str, path: Path, skip_invalid: bool, ts_convention: str = "end"
) -> dict[str, Any]:
    """Run one importer in a savepoint; returns what happened (counts or row errors);
    ``ts_convention``: what a readings file's ``ts`` stamps (interval end or start)."""
    if kind == "registry":
        from kilnwatch.ingest.registry import import_registry

        report = import_registry(env.db, path, skip_invalid=skip_invalid)
        return {"counts": [(k, report.created[k], report.updated[k]) for k in report.created],
                "rejected": [r.error for r in report.rejected]}  # fmt: skip
    if kind == "readings":
        from kilnwatch.ingest.readings_file import import_readings_file
        from kilnwatch.ingest.stamps import convention_of
        from kilnwatch.ingest.validate import ValidationPolicy

        policy = ValidationPolicy(local_tz=env.tz)
        rep = import_readings_file(env.db, path, skip_invalid=skip_invalid, policy=policy,
                                   ts_convention=convention_of(ts_convention))  # fmt: skip
        return {"counts": [("readings", rep.accepted, rep.corrections),
                           ("duplicates", rep.duplicates, 0), ("rejected", rep.rejected, 0),
                           ("moved_to_interval_end", rep.moved_to_interval_end, 0)],
                "rejected": []}  # fmt: skip
    from kilnwatch.ingest.external_sources import import_sources

    srep = import_sources(env.db, path, skip_invalid=skip_invalid)
    return {"counts": [(k, srep.created[k], srep.updated[k]) for k in srep.created],
            "rejected": [r.error for r in srep.rejected]}  # fmt: skip


def _error_rows(errors: list[InputError], name: str) -> list[dict[str, Any]]:
    return [{"file": Path(e.location.file).name if e.location.file else name,
             "row": e.location.row, "field": e.location.field, "reason": e.reason}
            for e in errors]  # fmt: skip


def _uploads_page(
    env: PageEnv, result: dict[str, Any] | None = None, status: int = 200
) -> Response:
    result = result or {}
    tables = [Table("row_errors", ERROR_COLS, result.get("errors", []),
                    empty="table.no_row_errors")]  # fmt: skip
    context = {"kinds": upload_kinds(env.me), "result": result,
               "crumbs": [(env.t("nav.uploads"), None)]}  # fmt: skip
    return env.render("admin_uploads.html", context, tables, status_code=status)


def _uploader(env: PageEnv) -> None:
    env.require(bool(upload_kinds(env.me)), f"a {env.me.role.value} user may not upload data")


@router.get("/admin/uploads")
def uploads_page(env: SignedIn) -> Response:
    _uploader(env)
    return _uploads_page(env)


@router.post("/admin/uploads")
async def upload(
    env: SignedIn,
    kind: Annotated[str, Form()],
    file: UploadFile,
    skip_invalid: Annotated[str, Form()] = "",
    ts_convention: Annotated[str, Form()] = "end",
) -> Response:
    _uploader(env)
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}", field="kind")
    env.require(kind in upload_kinds(env.me), f"a {env.me.role.value} user may not upload {kind}")
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    name = _safe_name(file.filename or "upload.csv")
    if len(data) > MAX_UPLOAD_BYTES:
        return _uploads_page(
            env,
            {
                "name": name,
                "kind": kind,
                "refused": True,
                "errors": [
                    {
                        "file": name,
                        "reason": env.t("upload.too_large", mb=MAX_UPLOAD_BYTES // 2**20),
                    }
                ],
            },
            413,
        )
    with tempfile.TemporaryDirectory(prefix="kilnwatch-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            foreign = outside_scope(env.db, env.me, kind, path, env.t)
        except InputError as exc:  # unreadable: the importer would say the same
            foreign = [exc]
        if foreign:
            result = {"name": name, "kind": kind, "refused": True,
                      "errors": _error_rows(foreign, name)}  # fmt: skip
            return _uploads_page(env, result, 422)
        savepoint = env.db.begin_nested()
        try:
            outcome = _import(env, kind, path, bool(skip_invalid), ts_convention)
        except ImportRejected as exc:
            savepoint.rollback()
            result = {"name": name, "kind": kind, "refused": True,
                      "errors": _error_rows(exc.errors, name)}  # fmt: skip
            return _uploads_page(env, result, 422)
        except InputError as exc:
            savepoint.rollback()
            result = {"name": name, "kind": kind, "refused": True,
                      "errors": _error_rows([exc], name)}  # fmt: skip
            return _uploads_page(env, result, 422)
        savepoint.commit()
    result = {"name": name, "kind": kind, "refused": False, "counts": outcome["counts"],
              "errors": _error_rows(outcome["rejected"], name)}  # fmt: skip
    return _uploads_page(env, result)
