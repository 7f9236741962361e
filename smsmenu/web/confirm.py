"""Back office: the server-side confirmation step before each destructive or money action.

A POST of such an action without a valid ``confirm`` token changes nothing: it answers a page
that says what will happen (the agent, the amount in yuan, the effect) with the same fields and a
token to send them again. The token is a keyed digest of this browser's CSRF token, the action's
path and every field, so it confirms exactly what the page showed: a changed field asks again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from aiohttp import web

from smsmenu.web import state
from smsmenu.web.render import csrf_token, page

UNSIGNED = frozenset({"csrf", "confirm"})
"""Fields the token does not cover (the CSRF token is in its key already)."""


def token(request: web.Request, fields: Mapping[str, str]) -> str:
    """The confirmation of ``fields`` posted to this request's path by this browser."""
    signed = json.dumps(sorted((k, v) for k, v in fields.items() if k not in UNSIGNED),
                        ensure_ascii=False)
    message = f"confirm|{csrf_token(request)}|{request.path}|{signed}"
    return hmac.new(state.get(request).key, message.encode(), hashlib.sha256).hexdigest()


def confirmed(request: web.Request, fields: Mapping[str, str]) -> bool:
    """The form carries the token of exactly these fields."""
    given = fields.get("confirm", "")
    return given.isascii() and hmac.compare_digest(given, token(request, fields))


def ask(request: web.Request, fields: Mapping[str, str], what: str, back: str) -> web.Response:
    """The confirmation page: ``what`` will happen; confirm (the same fields again, with the
    token) or go ``back``."""
    kept = [(k, v) for k, v in fields.items() if k not in UNSIGNED]
    return page(request, "ops_confirm.html", {"what": what, "fields": kept, "back": back,
                                              "token": token(request, fields),
                                              "action": request.path})
