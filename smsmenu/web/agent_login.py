"""Agent login: account no. or bound number + management password (R-4), or an SMS code."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import structlog
from aiohttp import web

from ledger import agents
from ledger.context import Env
from smsmenu.clock import from_iso
from smsmenu.errors import AgentLocked, SmsmenuError, UnknownAgent, WrongPassword
from smsmenu.web import codes, limits, sessions, state
from smsmenu.web.auth import client_ip, session
from smsmenu.web.errors import CodeRefused, LoginFailed
from smsmenu.web.forms import form, raw
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()
log = structlog.get_logger("web.login")
ACCOUNT_NO = re.compile(r"[Aa]([0-9]{8})")


def _find(conn: sqlite3.Connection, who: str) -> agents.Agent | None:
    """The open agent named by account number (A00000001) or bound number, else None."""
    found: agents.Agent | None
    if m := ACCOUNT_NO.fullmatch(who):
        try:
            found = agents.by_id(conn, int(m.group(1)))
        except UnknownAgent:
            return None
    else:
        found = agents.find(conn, re.sub(r"[\s-]", "", who))
    return found if found is not None and found.status != "closed" else None


def _password_login(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, who: str,
                    password: str, ip: str, ttl: dt.timedelta) -> tuple[str, int]:
    limits.check_login(conn, now, ip, who)
    agent = _find(conn, who)
    if agent is None:
        limits.fail_login(conn, now, ip, who)
        raise LoginFailed()
    try:  # the ledger's own check: the same lockout as the SMS menu
        agents.check_password(conn, env, now, agent, "mgmt", password)
    except (WrongPassword, AgentLocked):
        limits.fail_login(conn, now, ip, who)
        raise
    return sessions.start(conn, now, "agent", agent.id, ttl), agent.id


def _send_code(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, msisdn: str, key: bytes,
               ip: str) -> None:
    agent = _find(conn, msisdn)
    if agent is None:  # same answer as for a real agent: the page never says who is one
        limits.check(conn, now, f"code-ip:{ip}", limits.CODE_IP_HOURLY)
        limits.hit(conn, now, f"code-ip:{ip}")
        return
    codes.issue(conn, now, key=key, purpose="login", msisdn=agent.msisdn, agent_id=agent.id,
                lang=agent.lang, ip=ip)


def _code_login(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, msisdn: str, code: str,
                key: bytes, ip: str, ttl: dt.timedelta) -> tuple[str, int]:
    limits.check_login(conn, now, ip, msisdn)
    try:
        code_id, agent_id = codes.check(conn, now, key=key, purpose="login", msisdn=msisdn,
                                        code=code)
    except CodeRefused:
        limits.fail_login(conn, now, ip, msisdn)
        raise
    agent = agents.by_id(conn, agent_id)
    if agent.status == "closed" or agent.msisdn != msisdn:
        raise CodeRefused()
    if agent.locked(now) and agent.locked_until:  # locked whichever way it logs in
        raise AgentLocked(until=env.local(from_iso(agent.locked_until)).strftime("%H:%M"))
    codes.spend(conn, code_id)
    return sessions.start(conn, now, "agent", agent.id, ttl), agent.id


def _logged_in(web_: state.Web, token: str) -> web.HTTPSeeOther:
    done = web.HTTPSeeOther(f"{PREFIX}/home")
    sessions.set_cookie(web_, done, sessions.COOKIE, token)
    return done


@routes.get("/")
async def root(request: web.Request) -> web.StreamResponse:
    found = session(request)
    kind = found.kind if found else ""
    raise web.HTTPSeeOther(f"{PREFIX}/home" if kind == "agent" else
                           f"{PREFIX}/ops/" if kind == "operator" else f"{PREFIX}/login")


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    mode = "code" if request.query.get("mode") == "code" else "password"
    return page(request, "login.html", {"mode": mode, "who": "", "msisdn": ""})


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    web_, data = state.get(request), await form(request)
    who = data.get("who", "")
    try:
        token, agent_id = await web_.ledger.op(
            _password_login, who=who, password=raw(data, "password"), ip=client_ip(request),
            ttl=web_.agent_ttl)
    except SmsmenuError as exc:
        log.info("web.login_refused", kind="agent", code=exc.code)
        return page(request, "login.html", {"mode": "password", "who": who, "msisdn": "",
                                            "error": exc.message(request[LANG])},
                    status=exc.http_status)
    log.info("web.login", kind="agent", agent=agent_id, by="password")
    raise _logged_in(web_, token)


@routes.post("/login/code/send")
async def send_code(request: web.Request) -> web.Response:
    web_, data = state.get(request), await form(request)
    msisdn = re.sub(r"[\s-]", "", data.get("msisdn", ""))[:20]
    context = {"mode": "code", "who": "", "msisdn": msisdn, "sent": True}
    try:
        await web_.ledger.op(_send_code, msisdn=msisdn, key=web_.key, ip=client_ip(request))
    except SmsmenuError as exc:
        return page(request, "login.html", {**context, "sent": False,
                                            "error": exc.message(request[LANG])},
                    status=exc.http_status)
    return page(request, "login.html", context)


@routes.post("/login/code")
async def code_login(request: web.Request) -> web.StreamResponse:
    web_, data = state.get(request), await form(request)
    msisdn = re.sub(r"[\s-]", "", data.get("msisdn", ""))[:20]
    try:
        token, agent_id = await web_.ledger.op(
            _code_login, msisdn=msisdn, code=raw(data, "code"), key=web_.key,
            ip=client_ip(request), ttl=web_.agent_ttl)
    except SmsmenuError as exc:
        log.info("web.login_refused", kind="agent", code=exc.code)
        return page(request, "login.html", {"mode": "code", "who": "", "msisdn": msisdn,
                                            "sent": True, "error": exc.message(request[LANG])},
                    status=exc.http_status)
    log.info("web.login", kind="agent", agent=agent_id, by="code")
    raise _logged_in(web_, token)


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    done = web.HTTPSeeOther(f"{PREFIX}/login")
    await sessions.finish(state.get(request), request, done)
    raise done
