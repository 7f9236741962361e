"""Web texts in Chinese (default) and English, from ``config/web/<lang>.toml``; the language switch."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from typing import Any

from aiohttp import web

from smsmenu.core.settings import config_path

LANGS = ("zh", "en")
DEFAULT = "zh"
COOKIE = "smsmenu_lang"
Translate = Callable[..., str]


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@functools.cache
def table(lang: str) -> dict[str, str]:
    """Every text of one language by dotted key (``nav.home``)."""
    return _flatten(tomllib.loads(config_path(f"web/{lang}.toml").read_text("utf-8")))


def translator(lang: str) -> Translate:
    """``t("key", name=...)``: the text in ``lang``, else Chinese, else the key itself."""
    texts, fallback = table(lang), table(DEFAULT)

    def t(key: str, **params: Any) -> str:
        text = texts.get(key) or fallback.get(key) or key
        return text.format(**params) if params else text
    return t


def choose(request: web.Request) -> tuple[str, bool]:
    """The request's language and whether it was just chosen (``?lang=``, to remember it)."""
    asked = request.query.get("lang", "")
    if asked in LANGS:
        return asked, True
    remembered = request.cookies.get(COOKIE, "")
    return (remembered if remembered in LANGS else DEFAULT), False
