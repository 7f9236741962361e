"""Web sessions: random tokens in HttpOnly SameSite=Strict cookies, stored only as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import partial

from aiohttp import web

from ledger.store import Conn, web_sessions
from ledger.store.web_sessions import Session
from smsmenu.core.clock import from_iso
from smsmenu.web.state import Web

COOKIE = "smsmenu_sid"
PRE_COOKIE = "smsmenu_pre"
"""A random value for visitors without a session: the basis of their CSRF token."""


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def start(conn: Conn, now: dt.datetime, kind: str, subject_id: int, ttl: dt.timedelta) -> str:
    """A new session (a new token: no fixation); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    web_sessions.purge_expired(conn, now=now)
    web_sessions.insert(conn, token_hash=digest(token), kind=kind, subject_id=subject_id,
                        created=now, expires=now + ttl)
    return token


def end_all(conn: Conn, kind: str, subject_id: int) -> None:
    """Log a subject out everywhere (a closed agent, a changed password)."""
    web_sessions.delete_subject(conn, kind=kind, subject_id=subject_id)


async def load(web_: Web, request: web.Request) -> Session | None:
    """The live session of the request's cookie; an idle one past half its time is extended."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    found = await web_.ledger.read(web_sessions.lookup(digest(token)))
    now = web_.now()
    if found is None or from_iso(found.expires_at) <= now:
        return None
    ttl = web_.agent_ttl if found.kind == "agent" else web_.operator_ttl
    if from_iso(found.expires_at) - now < ttl / 2:
        await web_.ledger.writer.run(partial(web_sessions.extend, token_hash=digest(token),
                                             until=now + ttl))
    return found


async def finish(web_: Web, request: web.Request, response: web.StreamResponse) -> None:
    """Log out: forget the session and clear its cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        await web_.ledger.writer.run(partial(web_sessions.delete, token_hash=digest(token)))
    response.del_cookie(COOKIE, path="/")


def set_cookie(web_: Web, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", httponly=True, samesite="Strict",
                        secure=web_.secure_cookies)
