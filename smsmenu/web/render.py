"""Server-rendered pages: the Jinja2 environment, its filters and the context every page gets."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from ledger.money import format_yuan
from smsmenu.core import refno
from smsmenu.core.clock import from_iso
from smsmenu.web import state
from smsmenu.web.i18n import translator
from smsmenu.web.state import AGENT, CSRF_BASIS, LANG, OPERATOR, PREFIX, Web

TEMPLATES = Path(__file__).with_name("templates")


def setup_templates(app: web.Application, web_: Web) -> None:
    def when(stamp: str | None) -> str:
        return web_.local(from_iso(stamp)).strftime("%Y-%m-%d %H:%M") if stamp else ""

    def percent(ppm: int) -> str:
        return f"{ppm / 10_000:g}%"

    def failure(stored: str | None) -> str:
        """A failed recharge's stored failure, ``declined: <BOSS detail>``, as the key of its
        words (``failure.declined``): BOSS's detail is for the back office, not for agents."""
        return f"failure.{(stored or 'unknown').partition(': ')[0]}"

    filters: dict[str, Callable[..., str]] = {"yuan": format_yuan, "when": when,
                                              "percent": percent, "failure": failure,
                                              "refno": refno.quote}
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                         undefined=jinja2.StrictUndefined, default_helpers=False,
                         filters=filters)


def csrf_token(request: web.Request) -> str:
    """The form token: a keyed digest of the cookie that identifies this browser."""
    basis = str(request.get(CSRF_BASIS, ""))
    key = state.get(request).key
    return hmac.new(key, f"csrf|{basis}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(request: web.Request, token: str) -> bool:
    """The form's token is this browser's (compare_digest takes ASCII text only)."""
    return (bool(request.get(CSRF_BASIS)) and token.isascii()
            and hmac.compare_digest(csrf_token(request), token))


def lang_url(request: web.Request, lang: str) -> str:
    query = {k: v for k, v in request.query.items() if k != "lang"}
    return f"{request.path}?{urlencode({**query, 'lang': lang})}"


def page(request: web.Request, name: str, context: Mapping[str, Any] | None = None, *,
         status: int = 200) -> web.Response:
    """Render ``name`` with the shared context (texts, CSRF token, who is logged in)."""
    lang = str(request.get(LANG, "zh"))
    base: dict[str, Any] = {
        "t": translator(lang), "lang": lang, "csrf": csrf_token(request), "base": PREFIX,
        "agent": request.get(AGENT), "operator": request.get(OPERATOR),
        "lang_zh": lang_url(request, "zh"), "lang_en": lang_url(request, "en"),
        "error": None, "notice": None, "path": request.path,
    }
    response = aiohttp_jinja2.render_template(name, request, {**base, **(context or {})},
                                              status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: web.Request, message: str, code: str, status: int) -> web.Response:
    """The error page; plain text should even that fail (the error may be in rendering)."""
    try:
        return page(request, "error.html", {"message": message, "code": code}, status=status)
    except Exception:  # an answer without a traceback, whatever went wrong
        return web.Response(text=f"{code}: {message}\n", status=status,
                            headers={"Cache-Control": "no-store"})
