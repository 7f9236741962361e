"""Small helpers to read forms, queries and path ids without trusting any of them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from smsmenu.web.errors import BadForm, FormError, PageNotFound
from smsmenu.web.i18n import translator
from smsmenu.web.state import LANG

MAX_FIELD = 200
MAX_PAGE = 100_000
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
"""Dates asked for (history, reports) lie between these: far inside what date arithmetic takes."""
_DIGITS = re.compile(r"[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def digits(text: str, most: int = 18) -> int | None:
    """ASCII digits only (not ``²`` or ``١``, which ``str.isdigit`` takes), at most ``most``."""
    return int(text) if len(text) <= most and _DIGITS.fullmatch(text) else None


async def posted(request: web.Request) -> MultiDictProxy[Any]:
    """The request's form; BadForm (400) for a body that is no readable form (a bad multipart
    boundary, an unknown charset, undecodable bytes). aiohttp's 413 passes as it is."""
    try:
        return await request.post()
    except web.HTTPException:
        raise
    except Exception:  # aiohttp raises ValueError, LookupError, RuntimeError... on bad bodies
        raise BadForm() from None


async def form(request: web.Request) -> dict[str, str]:
    """The posted fields as stripped strings (files and over-long values are dropped)."""
    data = await posted(request)
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
    found = digits(request.match_info.get(name, ""), 12)
    if found is None:
        raise PageNotFound()
    return found


def day(request: web.Request, text: str | None, default: dt.date) -> dt.date:
    """A date typed as YYYY-MM-DD between FIRST_DAY and LAST_DAY; FormError saying so if not."""
    if not text:
        return default
    try:
        if _DATE.fullmatch(text) and FIRST_DAY <= (found := dt.date.fromisoformat(text)) <= LAST_DAY:
            return found
    except ValueError:
        pass
    t = translator(str(request.get(LANG, "zh")))
    raise FormError(why=t("form.bad_date", value=text[:20], first=FIRST_DAY.isoformat(),
                          last=LAST_DAY.isoformat()))


def page_no(request: web.Request) -> int:
    """``?page=N`` (default 1): FormError unless a whole number from 1 to MAX_PAGE."""
    text = request.query.get("page", "")
    if not text:
        return 1
    found = digits(text, 6)
    if found is None or not 1 <= found <= MAX_PAGE:
        t = translator(str(request.get(LANG, "zh")))
        raise FormError(why=t("form.bad_page", value=text[:20], last=MAX_PAGE))
    return found
