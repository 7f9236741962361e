"""Small helpers to read forms, queries and path ids without trusting any of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from smsmenu.web.errors import FormError, PageNotFound
from smsmenu.web.i18n import translator
from smsmenu.web.state import LANG

MAX_FIELD = 200


async def form(request: web.Request) -> dict[str, str]:
    """The posted fields as stripped strings (files and over-long values are dropped)."""
    data = await request.post()
    return {k: v.strip() for k, v in data.items() if isinstance(v, str) and len(v) <= MAX_FIELD}


def raw(data: Mapping[str, str], name: str) -> str:
    """A field exactly as typed (passwords: never stripped, never logged)."""
    return data.get(name, "")


def need(request: web.Request, data: Mapping[str, Any], name: str) -> str:
    value = str(data.get(name, "")).strip()
    if not value:
        t = translator(str(request.get(LANG, "zh")))
        raise FormError(why=t("form.missing", field=t(f"field.{name}")))
    return value


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the URL; anything else is simply not found."""
    text = request.match_info.get(name, "")
    if not text.isdigit() or len(text) > 12:
        raise PageNotFound()
    return int(text)


def day(request: web.Request, text: str | None, default: dt.date) -> dt.date:
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        t = translator(str(request.get(LANG, "zh")))
        raise FormError(why=t("form.bad_date", value=text[:20])) from None


def page_no(request: web.Request) -> int:
    text = request.query.get("page", "1")
    return max(1, min(int(text), 100_000)) if text.isdigit() and len(text) < 7 else 1
