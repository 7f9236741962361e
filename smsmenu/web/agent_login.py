"""Agent login: account no. or bound number + management password (R-4), or an SMS code.

Failures lock the web login only (the ledger's web lock, R-2), per agent, and count per source
address (``limits.LOGIN_FAILURES_IP``). An unknown account, a wrong password and a locked web
login get the same answer after the same hashing work; the agent learns of a lock by SMS.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import partial

import structlog
from aiohttp import web

from ledger import agents, lockout, passwords
from ledger.context import Env
from ledger.store import Conn
from smsmenu.core.errors import AgentLocked, SmsmenuError, UnknownAgent, WrongPassword
from smsmenu.web import codes, limits, sessions, state
from smsmenu.web.auth import client_ip, session
from smsmenu.web.errors import AgentLoginFailed, CodeRefused, LoginCodeRefused
from smsmenu.web.forms import form, raw
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()
log = structlog.get_logger("web.login")
ACCOUNT_NO = re.compile(r"[Aa]([0-9]{8})")


def _find(conn: Conn, who: str) -> agents.Agent | None:
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


def _by_number(conn: Conn, msisdn: str) -> agents.Agent | None:
    """The open agent bound to ``msisdn`` (codes go to bound numbers only), else None."""
    found = agents.find(conn, msisdn)
    return found if found is not None and found.status != "closed" else None


def _password_login(conn: Conn, env: Env, now: dt.datetime, *, who: str,
                    password: str, ip: str, ttl: dt.timedelta) -> tuple[str, int]:
    passwords.check_format(password)  # the input alone decides this one: it tells nothing
    limits.check_address(conn, now, ip)
    agent = _find(conn, who)
    try:
        if agent is None:
            passwords.decoy(env.secret, "mgmt", password)
            raise UnknownAgent(msisdn="-")
        agents.check_password(conn, env, now, agent, "mgmt", password)  # the web lock
    except (UnknownAgent, WrongPassword, AgentLocked) as exc:
        limits.fail_address(conn, now, ip)
        raise AgentLoginFailed(attempts=env.rules.lockout_attempts) from exc
    return sessions.start(conn, now, "agent", agent.id, ttl), agent.id


def _send_code(conn: Conn, env: Env, now: dt.datetime, *, msisdn: str, key: bytes,
               ip: str) -> None:
    """Throttled alike for every number; a code only to an agent whose web login is not locked.
    The page says the same either way ("if this number is an agent, a code was sent")."""
    codes.throttle(conn, now, msisdn=msisdn, ip=ip)
    agent = _by_number(conn, msisdn)
    if agent is None or agent.lock("web").active(now):
        return
    codes.send(conn, now, key=key, purpose="login", msisdn=agent.msisdn, agent_id=agent.id,
               lang=agent.lang)


def _code_login(conn: Conn, env: Env, now: dt.datetime, *, msisdn: str, code: str,
                key: bytes, ip: str, ttl: dt.timedelta) -> tuple[str, int]:
    limits.check_address(conn, now, ip)
    agent = _by_number(conn, msisdn)
    try:
        code_id, owner = codes.check(conn, now, key=key, purpose="login", msisdn=msisdn,
                                     code=code)
        if agent is None or owner != agent.id:
            raise CodeRefused()
        lockout.refuse(env, now, agent.lock("web"))  # the web lock holds for codes too
    except (CodeRefused, AgentLocked) as exc:
        limits.fail_address(conn, now, ip)
        if agent is not None and not agent.lock("web").active(now):  # a failure counts
            lockout.failed(conn, env, now, agent_id=agent.id, msisdn=agent.msisdn,
                           lang=agent.lang, lock=agent.lock("web"))
        raise LoginCodeRefused(attempts=env.rules.lockout_attempts) from exc
    lockout.succeeded(conn, agent.id, agent.lock("web"))
    codes.spend(conn, code_id)
    return sessions.start(conn, now, "agent", agent.id, ttl), agent.id


def _why(exc: SmsmenuError) -> str:
    """For the log only: what an answer that reads the same for all was really about."""
    cause = exc.__cause__
    return cause.code if isinstance(cause, SmsmenuError) else exc.code


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
        token, agent_id = await web_.ledger.transaction(partial(
            _password_login, who=who, password=raw(data, "password"), ip=client_ip(request),
            ttl=web_.agent_ttl))
    except SmsmenuError as exc:
        log.info("web.login_refused", kind="agent", code=exc.code, why=_why(exc))
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
        await web_.ledger.transaction(partial(_send_code, msisdn=msisdn, key=web_.key, ip=client_ip(request)))
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
        token, agent_id = await web_.ledger.transaction(partial(
            _code_login, msisdn=msisdn, code=raw(data, "code"), key=web_.key,
            ip=client_ip(request), ttl=web_.agent_ttl))
    except SmsmenuError as exc:
        log.info("web.login_refused", kind="agent", code=exc.code, why=_why(exc))
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
