"""Web sessions: random tokens in HttpOnly SameSite=Strict cookies, stored only as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from functools import partial

from aiohttp import web

from ledger.store.queries import Query
from smsmenu.core.clock import from_iso, iso
from smsmenu.web.state import Session, Web

COOKIE = "smsmenu_sid"
PRE_COOKIE = "smsmenu_pre"
"""A random value for visitors without a session: the basis of their CSRF token."""


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def start(conn: sqlite3.Connection, now: dt.datetime, kind: str, subject_id: int,
          ttl: dt.timedelta) -> str:
    """A new session (a new token: no fixation); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (iso(now),))
    conn.execute("INSERT INTO web_sessions (token_hash, kind, subject_id, created_at, expires_at)"
                 " VALUES (?, ?, ?, ?, ?)", (digest(token), kind, subject_id, iso(now),
                                               iso(now + ttl)))
    return token


def end_all(conn: sqlite3.Connection, kind: str, subject_id: int) -> None:
    """Log a subject out everywhere (a closed agent, a changed password)."""
    conn.execute("DELETE FROM web_sessions WHERE kind = ? AND subject_id = ?", (kind, subject_id))


def _lookup(token: str) -> Query[Session | None]:
    """The session of a token; an agent's session started before its management password or
    bound number last changed (by any channel, SMS menu included) is over."""
    return Query("SELECT s.kind, s.subject_id, s.expires_at FROM web_sessions s "
                 "LEFT JOIN agents a ON s.kind = 'agent' AND a.id = s.subject_id "
                 "WHERE s.token_hash = ? AND (a.credentials_at IS NULL "
                 "OR s.created_at >= a.credentials_at)",
                 (digest(token),), lambda rows: Session(*rows[0]) if rows else None)


def _extend(conn: sqlite3.Connection, token: str, until: str) -> None:
    conn.execute("UPDATE web_sessions SET expires_at = ? WHERE token_hash = ?",
                 (until, digest(token)))


def _drop(conn: sqlite3.Connection, token: str) -> None:
    conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (digest(token),))


async def load(web_: Web, request: web.Request) -> Session | None:
    """The live session of the request's cookie; an idle one past half its time is extended."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    found = await web_.ledger.read(_lookup(token))
    now = web_.now()
    if found is None or from_iso(found.expires_at) <= now:
        return None
    ttl = web_.agent_ttl if found.kind == "agent" else web_.operator_ttl
    if from_iso(found.expires_at) - now < ttl / 2:
        await web_.ledger.writer.run(partial(_extend, token=token, until=iso(now + ttl)))
    return found


async def finish(web_: Web, request: web.Request, response: web.StreamResponse) -> None:
    """Log out: forget the session and clear its cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        await web_.ledger.writer.run(partial(_drop, token=token))
    response.del_cookie(COOKIE, path="/")


def set_cookie(web_: Web, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", httponly=True, samesite="Strict",
                        secure=web_.secure_cookies)
