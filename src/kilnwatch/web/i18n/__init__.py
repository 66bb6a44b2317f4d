"""User-interface strings in zh-CN (default) and en, kept as JSON catalogues.

Every string a page shows goes through :class:`Translator`: ``t("key")`` or
``t("key", n=3)`` (``str.format`` fields). A key missing from ``en`` falls back to zh-CN; a key
missing from both shows as the key itself, and ``tests/web/test_i18n.py`` fails on it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

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


class Translator:
    """Strings of one locale (falling back to zh-CN), callable with format fields."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else LOCALES[0]
        self.strings = {**catalogue("zh-CN"), **catalogue(self.locale)}

    def __call__(self, key: str, /, **fields: Any) -> str:
        text = self.strings.get(key, key)
        return text.format(**fields) if fields else text

    def __getitem__(self, key: str) -> str:
        return self.strings.get(key, key)

    def has(self, key: str) -> bool:
        return key in self.strings

    @property
    def is_en(self) -> bool:
        return self.locale == "en"


@cache
def translator(locale: str) -> Translator:
    return Translator(locale)
