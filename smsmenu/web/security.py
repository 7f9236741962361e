"""The portal's middleware: language, session, CSRF on every form, errors as pages, headers.

``middleware`` is the portal's outermost middleware (put any other after it) and nothing
escapes it: its refusals, aiohttp's own HTTP errors (404, 405, 413), the deliberate errors of
the handlers and any unexpected exception all leave as a response carrying the security
headers; an unexpected exception is logged and becomes a plain 500 page, never a traceback.
``protect`` does the same one level up, on the listener's root app, for what the portal's
middleware never sees: the root's own middlewares' refusals (408, 413, 415), ``/`` and 404s
outside ``/web/``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware
from yarl import URL

from smsmenu.core.errors import SmsmenuError
from smsmenu.web import i18n, sessions, state
from smsmenu.web.errors import CsrfFailed
from smsmenu.web.forms import posted
from smsmenu.web.render import csrf_ok, error_page
from smsmenu.web.sessions import COOKIE, PRE_COOKIE
from smsmenu.web.state import CSRF_BASIS, LANG, PREFIX, SESSION

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = structlog.get_logger("web")
STATIC = f"{PREFIX}/static/"
CSRF_EXEMPT = frozenset({f"{PREFIX}/topup/notify"})
"""The bank's server-to-server notice: authenticated by its HMAC signature instead."""
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
"""Sent with every answer, besides the Content-Security-Policy."""
STRICT = ("default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
          "base-uri 'none'")
"""The policy of answers made outside the portal (the portal's and the bank's keep theirs)."""
PROTECTED = web.AppKey("smsmenu_protected", bool)
HTTP_ERRORS = {404: ("E_NOT_FOUND", "error.not_found"), 405: ("E_METHOD", "error.method"),
               413: ("E_TOO_LARGE", "error.too_large")}
"""aiohttp's own refusals shown as pages: (code, text); any other 4xx/5xx says its reason."""


def csp(form_targets: str) -> str:
    """No script at all; styles only from our stylesheet; forms only to us (and the bank)."""
    return ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
            f"form-action 'self'{form_targets}; frame-ancestors 'none'; base-uri 'none'")


def add_headers(response: web.StreamResponse, policy: str) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = policy
    headers.update(HEADERS)
    headers.setdefault("Cache-Control", "no-store")


def _origin(text: str) -> URL | None:
    """The origin of an ``Origin`` or public URL; None for ``null`` or anything unparsable."""
    try:
        url = URL(text)
        return url.origin() if url.is_absolute() and url.scheme in ("http", "https") else None
    except ValueError:
        return None


def _same_origin(request: web.Request) -> bool:
    """A browser's Origin (when sent) must be this site: a second line behind the token. The
    opaque ``null`` (sandboxed frames, cross-site redirects) and garbage are not this site."""
    given = request.headers.get("Origin")
    if given is None:
        return True
    origin = _origin(given)
    if origin is None:
        return False
    ours = {_origin(state.get(request).url("/"))}
    try:
        ours.add(request.url.origin())
    except ValueError:  # a Host header that is no host
        pass
    return origin in ours


async def _check_csrf(request: web.Request) -> None:
    form = await posted(request)
    token = form.get("csrf")
    if not isinstance(token, str) or not csrf_ok(request, token) or not _same_origin(request):
        raise CsrfFailed()


def _http_error(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    """aiohttp's 4xx/5xx as a page in the user's language (Allow and the like kept)."""
    if exc.status < 400:
        return exc
    t = i18n.translator(str(request.get(LANG, i18n.DEFAULT)))
    code, key = HTTP_ERRORS.get(exc.status, ("E_HTTP", ""))
    message = t(key) if key else f"{exc.status} {exc.reason}"
    response = error_page(request, message, code, exc.status)
    for name in ("Allow", "Retry-After"):
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


def _refusal(request: web.Request, exc: SmsmenuError) -> web.StreamResponse:
    lang = str(request.get(LANG, i18n.DEFAULT))
    if exc.http_status >= 500:
        log.warning("web.failed", path=request.path, code=exc.code)
    else:
        log.info("web.refused", path=request.path, code=exc.code)
    return error_page(request, exc.message(lang), exc.code, exc.http_status)


def _unexpected(request: web.Request) -> web.StreamResponse:
    """A bug or an outage: logged with its traceback; the browser sees only a plain 500."""
    log.exception("web.unexpected", method=request.method, path=request.path)
    lang = str(request.get(LANG, i18n.DEFAULT))
    return error_page(request, SmsmenuError().message(lang), SmsmenuError.code, 500)


async def _static(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A stylesheet or image; a name the file system refuses (too long...) is simply not found."""
    try:
        return await handler(request)
    except (OSError, ValueError):
        raise web.HTTPNotFound() from None


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
        response: web.StreamResponse
        try:
            if (found := await sessions.load(web_, request)) is not None:
                request[SESSION] = found
            if (unrouted := request.match_info.http_exception) is not None:
                raise unrouted  # 404 or 405 as such, not a CSRF refusal
            if request.method == "POST" and request.path not in CSRF_EXEMPT:
                await _check_csrf(request)
            response = await _static(request, handler) if request.path.startswith(
                STATIC) else await handler(request)
        except web.HTTPException as exc:
            response = _http_error(request, exc)
        except SmsmenuError as exc:
            response = _refusal(request, exc)
        except Exception:  # the last line: logged, answered without a traceback
            response = _unexpected(request)
        if request.path.startswith(STATIC) and response.status == 200:
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


def _defaults(response: web.StreamResponse) -> None:
    """The headers, where the portal (or the bank) has not set its own."""
    for name, value in (("Content-Security-Policy", STRICT), *HEADERS.items(),
                        ("Cache-Control", "no-store")):
        response.headers.setdefault(name, value)


def _content_type_readable(request: web.Request) -> bool:
    """aiohttp's parser itself fails on some Content-Type headers (``x;0*``: IndexError), in
    whichever middleware or handler first asks; asked here first, that is a 400."""
    try:
        return isinstance(request.content_type, str)
    except Exception:  # whatever the parser raises
        return False


@web.middleware
async def outer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The listener's first middleware: headers on everything, no traceback ever."""
    response: web.StreamResponse
    try:
        if not _content_type_readable(request):
            raise web.HTTPBadRequest(text="400: Bad Request: unreadable Content-Type header\n")
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    except Exception:  # the last line: logged, answered without a traceback
        log.exception("web.unexpected", method=request.method, path=request.path)
        response = web.Response(status=500, text="500: Internal Server Error\n")
    _defaults(response)
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Just before the headers go out (aiohttp's own error answers included)."""
    _defaults(response)


def protect(app: web.Application) -> None:
    """Give every answer of the listener ``app`` (the portal's root) the security headers:
    ``outer`` first among its middlewares, and a hook for the answers aiohttp makes itself.
    Call it once the app is built, before it starts; calling it again changes nothing."""
    if app.get(PROTECTED):
        return
    app[PROTECTED] = True
    app.middlewares.insert(0, outer)
    app.on_response_prepare.append(_on_prepare)
