"""``/``: the province overview for province-level users, the public overview for visitors,
the first-run page on an empty database; other users go to their own region or enterprise."""

from __future__ import annotations

from fastapi.responses import Response

from kilnwatch.web.pages.kit import Visitor, home_of, page_router, redirect
from kilnwatch.web.pages.regions import region_view, sees_province
from kilnwatch.web.pages.registry import NavItem, add_nav, admin_only, not_enterprise
from kilnwatch.web.pages.signin import database_is_empty
from kilnwatch.web.services.region import PUBLIC
from kilnwatch.web.services.uploads import may_upload

router = page_router()

add_nav(NavItem("home", "nav.overview", home_of, order=10))
add_nav(NavItem("public", "nav.public", "/", order=10, visible=lambda p: p is None))
add_nav(NavItem("findings", "nav.findings", "/findings", order=30, visible=not_enterprise))
add_nav(NavItem("quality", "nav.quality", "/quality", order=40, visible=not_enterprise))
add_nav(NavItem("users", "nav.users", "/admin/users", order=80, visible=admin_only))
add_nav(NavItem("uploads", "nav.uploads", "/admin/uploads", order=81, visible=may_upload))


@router.get("/")
def overview(env: Visitor) -> Response:
    if env.principal is None:
        if database_is_empty(env):
            return env.render("welcome.html", {})
        return region_view(env, "370000", PUBLIC, public=True)
    if not sees_province(env.principal):
        return redirect(home_of(env.principal))
    if database_is_empty(env):
        return env.render("welcome.html", {})
    return region_view(env, "370000", env.principal)
