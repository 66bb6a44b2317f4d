"""``/admin/departments``: the department (部门) of every staff user, set by an administrator
in the browser (issue 15: "谁考核、谁掌握数据"; the same as ``kilnwatch supervise
set-department``). A user without a row works for the lead department."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.responses import Response
from sqlalchemy import select

from kilnwatch.errors import InputError
from kilnwatch.identity import Role
from kilnwatch.store.models import User, UserDepartment
from kilnwatch.supervise.access import set_department
from kilnwatch.supervise.catalogue import lead_department, load_departments
from kilnwatch.web.pages.kit import PageEnv, SignedIn, done, page_router
from kilnwatch.web.pages.registry import NavItem, add_nav, admin_only
from kilnwatch.web.pages.tables import Col, Table
from kilnwatch.web.services.labels import region_name

router = page_router()
add_nav(NavItem("departments", "nav.departments", "/admin/departments", order=83,
                visible=admin_only))  # fmt: skip


def _page(env: PageEnv, error: str | None = None, status: int = 200) -> Response:
    env.require_admin()
    departments = load_departments()
    rows = env.db.execute(
        select(User, UserDepartment.department)
        .outerjoin(UserDepartment, UserDepartment.user_id == User.id)
        .where(User.role != Role.ENTERPRISE.value)
        .order_by(User.username)
    ).all()  # fmt: skip
    lead = lead_department()
    users = [
        {"username": u.username, "role": u.role,
         "region": region_name(u.region_code, env.t) if u.region_code else "",
         "department": dept or lead,
         "name": env.name(departments[dept or lead].name_zh, departments[dept or lead].name_en),
         "set": "yes" if dept else "no"}
        for u, dept in rows
    ]  # fmt: skip
    table = Table("departments", [
        Col("username", "col.username", "code"), Col("role", "col.role", "badge",
        badge_prefix="role."), Col("region", "col.region"), Col("name", "sv.col.department"),
        Col("set", "dept.recorded", "badge", badge_prefix="yesno."),
    ], users)  # fmt: skip
    context = {
        "users": users, "departments": list(departments.values()), "error": error,
        "done": env.request.query_params.get("done"),
        "crumbs": [(env.t("nav.departments"), None)],
    }  # fmt: skip
    return env.render("admin_departments.html", context, [table], status_code=status)


@router.get("/admin/departments")
def departments_page(env: SignedIn) -> Response:
    return _page(env)


@router.post("/admin/departments")
def departments_set(
    env: SignedIn,
    username: Annotated[str, Form(max_length=64)],
    department: Annotated[str, Form(max_length=32)],
) -> Response:
    """Record a staff user's department (every change is kept in the audit log)."""
    env.require_admin()
    try:
        role = env.db.scalar(select(User.role).where(User.username == username))
        if role == Role.ENTERPRISE.value:
            raise InputError("enterprise users belong to no department", field="username")
        set_department(env.db, username, department)
    except InputError as exc:
        env.db.rollback()
        return _page(env, error=exc.reason, status=422)
    return done(env, f"/admin/departments?done={username}")
