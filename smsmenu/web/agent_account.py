"""Account settings: change the transaction or management password (R-21), the bound number (R-7)."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from aiohttp import web

from ledger import agents, credentials
from ledger.api import MsisdnChange
from ledger.context import Env
from ledger.store import Conn
from smsmenu.core.errors import DuplicateAgent, SmsmenuError
from smsmenu.core.types import TargetKind
from smsmenu.web import codes, sessions, state
from smsmenu.web.auth import agent_page, client_ip, me
from smsmenu.web.errors import FormError
from smsmenu.web.forms import form, raw
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import AGENT, CSRF_BASIS, LANG

routes = web.RouteTableDef()


def _account(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    defaults = {"done": None, "sent_to": "", "error_at": ""}
    return page(request, "account.html", {**defaults, **context}, status=status)


@routes.get("/account")
@agent_page
async def account(request: web.Request) -> web.Response:
    return _account(request)


@routes.post("/account/password")
@agent_page
async def change_password(request: web.Request) -> web.Response:
    web_, agent, data = state.get(request), me(request), await form(request)
    purpose = data.get("purpose", "")
    t = translator(request[LANG])
    try:
        if purpose not in ("tx", "mgmt"):
            raise FormError(why=t("form.missing", field=t("field.purpose")))
        if raw(data, "new") != raw(data, "again"):
            raise FormError(why=t("account.mismatch"))
        await web_.ledger.change_password(msisdn=agent["msisdn"], purpose=purpose,
                                          old=raw(data, "old"), new=raw(data, "new"))
    except SmsmenuError as exc:
        return _account(request, exc.http_status, error=exc.message(request[LANG]),
                        error_at=purpose)
    if purpose == "tx":
        return _account(request, done=t(f"account.done_{purpose}"))
    return await _renewed(request, agent["agent_id"], done=t(f"account.done_{purpose}"))


def _new_session(conn: Conn, env: Env, now: dt.datetime, *, agent_id: int,
                 ttl: dt.timedelta) -> str:
    return sessions.start(conn, now, "agent", agent_id, ttl)


async def _renewed(request: web.Request, agent_id: int, **page_args: Any) -> web.Response:
    """A new management password or bound number ends every older session of the agent (other
    browsers too); this browser goes on in a fresh one, its forms bound to the new token."""
    web_ = state.get(request)
    token = await web_.ledger.transaction(partial(_new_session, agent_id=agent_id, ttl=web_.agent_ttl))
    request[CSRF_BASIS] = token
    response = _account(request, **page_args)
    sessions.set_cookie(web_, response, sessions.COOKIE, token)
    return response


def _send_bind(conn: Conn, env: Env, now: dt.datetime, *, agent_id: int,
               new_msisdn: str, key: bytes, ip: str) -> str:
    agent = agents.by_id(conn, agent_id)
    number = env.plan.validate(TargetKind.MOBILE, new_msisdn)
    other = agents.find(conn, number)
    if other is not None and other.status != "closed":
        raise DuplicateAgent(msisdn=number)
    codes.issue(conn, now, key=key, purpose="bind", msisdn=number, agent_id=agent.id,
                lang=agent.lang, ip=ip)
    return number


def _bind(conn: Conn, env: Env, now: dt.datetime, *, agent_id: int,
          new_msisdn: str, code: str, mgmt_password: str, key: bytes) -> MsisdnChange:
    """The code proves the new number is in the agent's hand; the password that it is the agent."""
    agent = agents.by_id(conn, agent_id)
    number = env.plan.validate(TargetKind.MOBILE, new_msisdn)
    code_id, _ = codes.check(conn, now, key=key, purpose="bind", msisdn=number, code=code,
                             agent_id=agent.id)
    done = credentials.change_msisdn(conn, env, now, msisdn=agent.msisdn, new_msisdn=number,
                                     mgmt_password=mgmt_password)
    codes.spend(conn, code_id)
    return done


@routes.post("/account/number/code")
@agent_page
async def send_bind_code(request: web.Request) -> web.Response:
    web_, agent, data = state.get(request), me(request), await form(request)
    try:
        number = await web_.ledger.transaction(partial(_send_bind, agent_id=agent["agent_id"],
                                      new_msisdn=data.get("new_msisdn", ""), key=web_.key,
                                      ip=client_ip(request)))
    except SmsmenuError as exc:
        return _account(request, exc.http_status, error=exc.message(request[LANG]),
                        error_at="number")
    return _account(request, sent_to=number)


@routes.post("/account/number")
@agent_page
async def change_number(request: web.Request) -> web.Response:
    web_, agent, data = state.get(request), me(request), await form(request)
    new = data.get("new_msisdn", "")
    try:
        done = await web_.ledger.transaction(partial(_bind, agent_id=agent["agent_id"], new_msisdn=new,
                                    code=raw(data, "code"), key=web_.key,
                                    mgmt_password=raw(data, "mgmt_password")))
    except SmsmenuError as exc:
        return _account(request, exc.http_status, error=exc.message(request[LANG]),
                        error_at="number", sent_to=new)
    request[AGENT] = {**agent, "msisdn": done.msisdn}
    t = translator(request[LANG])
    return await _renewed(request, agent["agent_id"],
                          done=t("account.done_number", msisdn=done.msisdn))
