"""Who is asking: the logged-in agent (only its own data) or operator (only what its role may)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ledger import admin, agents
from ledger.context import Env
from ledger.store import Conn
from ledger.store.web_sessions import Session
from smsmenu.web import operators, state
from smsmenu.web.errors import Forbidden
from smsmenu.web.operators import Operator
from smsmenu.web.state import AGENT, OPERATOR, PREFIX, SESSION

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def view_by_id(conn: Conn, env: Env, now: dt.datetime, *,
          agent_id: int) -> dict[str, Any]:
    """The agent's own view by id (not by number: a number may later belong to another)."""
    return admin.view(conn, env, agents.by_id(conn, agent_id))


def session(request: web.Request) -> Session | None:
    found = request.get(SESSION)
    return found if isinstance(found, Session) else None


def agent_page(handler: Handler) -> Handler:
    """Only for a logged-in, not closed agent; ``request[AGENT]`` is its view."""
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        found = session(request)
        if found is None or found.kind != "agent":
            raise web.HTTPSeeOther(f"{PREFIX}/login")
        view = await state.get(request).ledger.transaction(
            functools.partial(view_by_id, agent_id=found.subject_id))
        if view["status"] == "closed":
            raise web.HTTPSeeOther(f"{PREFIX}/login")
        request[AGENT] = view
        return await handler(request)
    return wrapped


def me(request: web.Request) -> dict[str, Any]:
    agent: dict[str, Any] = request[AGENT]
    return agent


def operator_page(permission: str) -> Callable[[Handler], Handler]:
    """Only for a logged-in operator whose role has ``permission``; 403 otherwise."""
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            found = session(request)
            if found is None or found.kind != "operator":
                raise web.HTTPSeeOther(f"{PREFIX}/ops/login")
            who = await operators.by_id(state.get(request).ledger, found.subject_id)
            if who is None or not who.active:
                raise web.HTTPSeeOther(f"{PREFIX}/ops/login")
            request[OPERATOR] = who
            if not who.may(permission):
                raise Forbidden()
            return await handler(request)
        return wrapped
    return decorate


def operator(request: web.Request) -> Operator:
    who: Operator = request[OPERATOR]
    return who


def client_ip(request: web.Request) -> str:
    return request.remote or "unknown"
