"""User-interface strings in zh-CN (default) and en, kept as JSON catalogues."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LOCALES = ("zh-CN", "en")


@cache
def catalogue(locale: str) -> dict[str, str]:
    text = (resources.files("kilnwatch.web.i18n") / f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def pick_locale(requested: str | None, default: str = "zh-CN") -> str:
    if requested:
        for locale in LOCALES:
            if requested.lower().startswith(locale.lower()[:2]):
                return locale
    return default


def translator(locale: str) -> dict[str, str]:
    """Strings for ``locale``, falling back to zh-CN for keys not yet translated."""
    return {**catalogue("zh-CN"), **catalogue(locale)}
