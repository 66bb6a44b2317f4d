"""The extension points of the web application: navigation entries and page sections.

A capability adds a page by writing ``web/pages/<capability>.py`` with a ``router`` (made by
:func:`kilnwatch.web.pages.kit.page_router`) and listing the module in
``kilnwatch.web.pages.PAGE_MODULES``; it adds a navigation entry with :func:`add_nav` and a
section of the enterprise (or city, or unit) page with :func:`add_section`, both at import of
its module. ``base.html`` and the entity pages iterate these registries, so nobody edits them
to add a page. See docs/web.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kilnwatch.identity import Principal, Role

if TYPE_CHECKING:
    from kilnwatch.web.pages.kit import PageEnv


def signed_in(principal: Principal | None) -> bool:
    return principal is not None


def not_enterprise(principal: Principal | None) -> bool:
    return principal is not None and principal.role is not Role.ENTERPRISE


def admin_only(principal: Principal | None) -> bool:
    return principal is not None and principal.role is Role.ADMIN


@dataclass(frozen=True)
class NavItem:
    """A link in the top navigation, shown to principals for whom ``visible`` holds."""

    key: str
    label: str
    href: str | Callable[[Principal], str]
    order: int = 100
    visible: Callable[[Principal | None], bool] = signed_in

    def href_for(self, principal: Principal) -> str:
        return self.href if isinstance(self.href, str) else self.href(principal)


@dataclass
class SectionRequest:
    """What a section loader gets: the page environment, the subject and the period."""

    env: PageEnv
    subject: Any
    period: Any


@dataclass(frozen=True)
class Section:
    """A block of an entity page (``page``: ``enterprise``, ``city`` or ``unit``).

    ``load`` returns the template context of the section (with ``tables`` for its CSV twins)
    or None to hide it; ``template`` renders it with ``section`` bound to that context.
    """

    page: str
    key: str
    title: str
    template: str
    load: Callable[[SectionRequest], dict[str, Any] | None]
    order: int = 100
    visible: Callable[[Principal | None], bool] = signed_in


@dataclass
class Registry:
    nav: list[NavItem] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


REGISTRY = Registry()


def add_nav(item: NavItem) -> None:
    REGISTRY.nav = [n for n in REGISTRY.nav if n.key != item.key] + [item]


def add_section(section: Section) -> None:
    REGISTRY.sections = [
        s for s in REGISTRY.sections if (s.page, s.key) != (section.page, section.key)
    ] + [section]


def nav_for(principal: Principal | None) -> list[tuple[NavItem, str]]:
    items = sorted((n for n in REGISTRY.nav if n.visible(principal)), key=lambda n: n.order)
    if principal is None:
        return [(n, n.href if isinstance(n.href, str) else "/") for n in items]
    return [(n, n.href_for(principal)) for n in items]


def sections_for(page: str, principal: Principal | None) -> list[Section]:
    found = (s for s in REGISTRY.sections if s.page == page and s.visible(principal))
    return sorted(found, key=lambda s: s.order)
