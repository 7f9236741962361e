"""Back office, agents: open (R-1, R-2), counter deposit (R-8, R-12), suspend (R-5), unlock,
commission rate (R-16), close with refund (R-6). Every action is audited."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from functools import partial
from typing import Any

from aiohttp import web

from ledger import admin, agents, money, reports
from ledger.api import as_dict
from ledger.context import Env
from ledger.store import Conn, queries
from smsmenu.core.errors import AgentClosed, SmsmenuError, UnknownAgent
from smsmenu.web import operators, state
from smsmenu.web.auth import operator, operator_page, view_by_id
from smsmenu.web.errors import FormError, PageNotFound
from smsmenu.web.forms import form, need, path_id, raw
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()


def on_agent(conn: Conn, env: Env, now: dt.datetime, *, agent_id: int,
             operation: Callable[..., Any], **kw: Any) -> Any:
    """Run a ledger operation on the agent with this id, which must still be open: by id, as a
    closed agent's number may since belong to another."""
    agent = agents.by_id(conn, agent_id)
    if agent.status == "closed":
        raise AgentClosed()
    return operation(conn, env, now, msisdn=agent.msisdn, **kw)


def _find(conn: Conn, env: Env, now: dt.datetime, *, text: str) -> int | None:
    if m := re.fullmatch(r"[Aa]?([0-9]{1,8})", text):
        try:
            return agents.by_id(conn, int(m.group(1))).id
        except UnknownAgent:
            return None
    found = agents.find(conn, re.sub(r"[\s-]", "", text))
    return found.id if found else None


async def agent_view(request: web.Request, status: int = 200, **extra: Any) -> web.Response:
    web_ = state.get(request)
    agent_id = path_id(request)
    try:
        view = await web_.ledger.transaction(partial(view_by_id, agent_id=agent_id))
    except UnknownAgent:
        raise PageNotFound() from None
    return page(request, "ops_agent.html", {
        "a": view, "key": secrets.token_hex(12), "result": None,
        "deposits": await web_.ledger.read(reports.deposits(agent_id)),
        "recharges": await web_.ledger.read(queries.records(agent_id, limit=20)), **extra},
        status=status)


@routes.get("/ops/")
@operator_page("view")
async def home(request: web.Request) -> web.Response:
    recent = await state.get(request).ledger.read(reports.recent_agents(10))
    return page(request, "ops_home.html", {"recent": recent, "q": ""})


@routes.get("/ops/find")
@operator_page("view")
async def find(request: web.Request) -> web.Response:
    text = request.query.get("q", "").strip()[:20]
    found = await state.get(request).ledger.transaction(partial(_find, text=text)) if text else None
    if found is not None:
        raise web.HTTPSeeOther(f"{PREFIX}/ops/agents/{found}")
    recent = await state.get(request).ledger.read(reports.recent_agents(10))
    return page(request, "ops_home.html", {"recent": recent, "q": text, "error": translator(
        request[LANG])("ops.not_found", q=text)}, status=404)


@routes.get("/ops/agents/new")
@operator_page("open")
async def new_form(request: web.Request) -> web.Response:
    return page(request, "ops_open.html", {"v": {}})


@routes.post("/ops/agents/new")
@operator_page("open")
async def open_agent(request: web.Request) -> web.StreamResponse:
    web_, data = state.get(request), await form(request)
    t = translator(request[LANG])
    detail = {"msisdn": data.get("msisdn", ""), "name": data.get("name", ""),
              "rate": data.get("rate", "")}
    try:
        for purpose in ("tx", "mgmt"):
            if raw(data, f"{purpose}_password") != raw(data, f"{purpose}_again"):
                raise FormError(why=t("account.mismatch"))
        rate = data.get("rate", "")
        done = await operators.audited(
            web_.ledger, operator(request), "open", detail["msisdn"], detail, admin.open_agent,
            msisdn=need(request, data, "msisdn"), name=need(request, data, "name"),
            tx_password=raw(data, "tx_password"), mgmt_password=raw(data, "mgmt_password"),
            rate_ppm=money.parse_rate(rate, max_ppm=web_.ledger.env.rules.max_rate_ppm)
            if rate else None)
    except SmsmenuError as exc:
        return page(request, "ops_open.html", {"v": detail, "error": exc.message(
            request[LANG], rule=True)}, status=exc.http_status)
    raise web.HTTPSeeOther(f"{PREFIX}/ops/agents/{done.agent_id}")


@routes.get("/ops/agents/{id}")
@operator_page("view")
async def show(request: web.Request) -> web.Response:
    return await agent_view(request)


async def _act(request: web.Request, action: str, operation: Callable[..., Any],
               detail: dict[str, Any], **kw: Any) -> web.Response:
    """Run one audited action on the agent in the URL and show the agent with its outcome."""
    web_, agent_id = state.get(request), path_id(request)
    try:
        done = await operators.audited(web_.ledger, operator(request), action,
                                       f"A{agent_id:08d}", detail, on_agent, agent_id=agent_id,
                                       operation=operation, **kw)
    except SmsmenuError as exc:
        return await agent_view(request, error=exc.message(request[LANG], rule=True),
                                status=exc.http_status)
    return await agent_view(request, result={"action": action, **as_dict(done)})


@routes.post("/ops/agents/{id}/deposit")
@operator_page("deposit")
async def deposit(request: web.Request) -> web.Response:
    data = await form(request)
    try:
        fen = money.parse_yuan(need(request, data, "amount"))
    except SmsmenuError as exc:
        return await agent_view(request, error=exc.message(request[LANG], rule=True), status=400)
    key = data.get("key", "")[:32] or secrets.token_hex(12)
    return await _act(request, "deposit", admin.deposit, {"amount_fen": fen, "key": key},
                      key=f"web-deposit:{key}", amount_fen=fen, channel="counter")


@routes.post("/ops/agents/{id}/suspend")
@operator_page("suspend")
async def suspend(request: web.Request) -> web.Response:
    on = (await form(request)).get("suspended") == "1"
    return await _act(request, "suspend" if on else "resume", admin.set_flag,
                      {"suspended": on}, suspended=on)


@routes.post("/ops/agents/{id}/unlock")
@operator_page("unlock")
async def unlock(request: web.Request) -> web.Response:
    return await _act(request, "unlock", admin.set_flag, {}, unlock=True)


@routes.post("/ops/agents/{id}/rate")
@operator_page("rate")
async def rate(request: web.Request) -> web.Response:
    data = await form(request)
    try:
        ppm = money.parse_rate(need(request, data, "rate"),
                               max_ppm=state.get(request).ledger.env.rules.max_rate_ppm)
    except SmsmenuError as exc:
        return await agent_view(request, error=exc.message(request[LANG], rule=True), status=400)
    return await _act(request, "rate", admin.set_flag, {"rate_ppm": ppm}, rate_ppm=ppm)


@routes.post("/ops/agents/{id}/close")
@operator_page("close")
async def close(request: web.Request) -> web.Response:
    key = (await form(request)).get("key", "")[:32] or secrets.token_hex(12)
    return await _act(request, "close", admin.close, {"key": key}, key=f"web-close:{key}")
