"""The portal's middleware: language, session, CSRF on every form, errors as pages, headers."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware
from yarl import URL

from smsmenu.errors import SmsmenuError
from smsmenu.web import i18n, sessions, state
from smsmenu.web.errors import CsrfFailed
from smsmenu.web.render import csrf_ok, page
from smsmenu.web.sessions import COOKIE, PRE_COOKIE
from smsmenu.web.state import CSRF_BASIS, LANG, PREFIX, SESSION

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = structlog.get_logger("web")
CSRF_EXEMPT = frozenset({f"{PREFIX}/topup/notify"})
"""The bank's server-to-server notice: authenticated by its HMAC signature instead."""


def csp(form_targets: str) -> str:
    """No script at all; styles only from our stylesheet; forms only to us (and the bank)."""
    return ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
            f"form-action 'self'{form_targets}; frame-ancestors 'none'; base-uri 'none'")


def add_headers(response: web.StreamResponse, policy: str) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = policy
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    headers.setdefault("Cache-Control", "no-store")


def _same_origin(request: web.Request) -> bool:
    """A browser's Origin (when sent) must be this site: a second line behind the token."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return URL(origin).origin() == request.url.origin()


async def _check_csrf(request: web.Request) -> None:
    form = await request.post()
    token = form.get("csrf")
    if not isinstance(token, str) or not csrf_ok(request, token) or not _same_origin(request):
        raise CsrfFailed()


def middleware(form_targets: str = "") -> Middleware:
    policy = csp(form_targets)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        web_ = state.get(request)
        lang, chosen = i18n.choose(request)
        request[LANG] = lang
        pre = request.cookies.get(PRE_COOKIE) or ""
        fresh = "" if pre else secrets.token_urlsafe(24)
        request[CSRF_BASIS] = request.cookies.get(COOKIE) or pre or fresh
        if (found := await sessions.load(web_, request)) is not None:
            request[SESSION] = found
        response: web.StreamResponse
        try:
            if request.method == "POST" and request.path not in CSRF_EXEMPT:
                await _check_csrf(request)
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        except SmsmenuError as exc:
            log.info("web.refused", path=request.path, code=exc.code)
            response = page(request, "error.html", {"message": exc.message(lang),
                                                    "code": exc.code}, status=exc.http_status)
        if request.path.startswith(f"{PREFIX}/static/"):
            response.headers["Cache-Control"] = "public, max-age=3600"
        add_headers(response, policy)
        if chosen:
            response.set_cookie(i18n.COOKIE, lang, path="/", httponly=True, samesite="Lax",
                                max_age=365 * 86400, secure=web_.secure_cookies)
        if fresh:
            sessions.set_cookie(web_, response, PRE_COOKIE, fresh)
        if isinstance(response, web.HTTPException):
            raise response
        return response
    return guard
