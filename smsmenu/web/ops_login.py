"""Operator login (scrypt, rate limited, audited) and logout."""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial

import structlog
from aiohttp import web

from ledger.context import Env
from ledger.store import Conn
from smsmenu.web import limits, operators, sessions, staff, state
from smsmenu.web.auth import client_ip, session
from smsmenu.web.errors import LoginFailed, RateLimited
from smsmenu.web.forms import form, raw
from smsmenu.web.operators import Operator
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()
log = structlog.get_logger("web.ops")
DUMMY_SALT = b"\x00" * 16


def _failed(conn: Conn, env: Env, now: dt.datetime, *, ip: str, who: str) -> None:
    limits.fail_login(conn, now, ip, who)


def _start(conn: Conn, env: Env, now: dt.datetime, *, who: Operator,
           ttl: dt.timedelta) -> str:
    token = sessions.start(conn, now, "operator", who.id, ttl)
    staff.record_login(conn, now, who.id)
    operators.audit(conn, now, who, "login", who.name, {}, "ok")
    return token


async def _check(web_: state.Web, name: str, password: str, ip: str) -> Operator:
    """The operator if the password is right; rate limited per name and per address."""
    if await limits.login_blocked(web_.ledger, web_.now(), ip, f"op:{name}"):
        raise RateLimited(wait=int(limits.LOGIN_FAILURES[1].total_seconds() // 60))
    found = await operators.by_name(web_.ledger, name)
    if found is None:  # the same slow hash either way: timing tells nothing
        await asyncio.to_thread(operators.hash_password, password, DUMMY_SALT)
    elif found[0].active and await asyncio.to_thread(operators.verify_password, password,
                                                     found[1], found[2]):
        return found[0]
    await web_.ledger.transaction(partial(_failed, ip=ip, who=f"op:{name}"))
    raise LoginFailed()


@routes.get("/ops/login")
async def login_page(request: web.Request) -> web.Response:
    return page(request, "ops_login.html", {"name": ""})


@routes.post("/ops/login")
async def login(request: web.Request) -> web.StreamResponse:
    web_, data = state.get(request), await form(request)
    name = data.get("name", "")[:40]
    try:
        who = await _check(web_, name, raw(data, "password"), client_ip(request))
    except (LoginFailed, RateLimited) as exc:
        log.info("web.login_refused", kind="operator", code=exc.code)
        return page(request, "ops_login.html", {"name": name,
                                                "error": exc.message(request[LANG], rule=True)},
                    status=exc.http_status)
    token = await web_.ledger.transaction(partial(_start, who=who, ttl=web_.operator_ttl))
    log.info("web.login", kind="operator", operator=who.name, role=who.role)
    done = web.HTTPSeeOther(f"{PREFIX}/ops/")
    sessions.set_cookie(web_, done, sessions.COOKIE, token)
    raise done


@routes.post("/ops/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    done = web.HTTPSeeOther(f"{PREFIX}/ops/login")
    if (found := session(request)) is not None and found.kind == "operator":
        await sessions.finish(state.get(request), request, done)
    raise done
