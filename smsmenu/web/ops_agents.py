"""Back office, agents: open (R-1, R-2), counter deposit (R-8, R-12), suspend (R-5), unlock,
commission rate (R-16), close with refund (R-6). Every action but open is confirmed first
(``confirm``) and audited."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from functools import partial
from typing import Any

from aiohttp import web

from ledger import admin, agents, audit, money, reports
from ledger.api import Deposit, as_dict
from ledger.context import Env
from ledger.store import Conn, queries
from smsmenu.core.errors import AgentClosed, SmsmenuError, UnknownAgent
from smsmenu.web import confirm, operators, state, tally
from smsmenu.web.auth import operator, operator_page, view_by_id
from smsmenu.web.errors import FormError, PageNotFound
from smsmenu.web.forms import form, need, path_id, raw
from smsmenu.web.i18n import translator
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()
Tally = Callable[[Any, SmsmenuError | None], None]
"""Counts and logs one action: its result and None, or None and its refusal."""


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
            actor=operator(request).actor, msisdn=need(request, data, "msisdn"),
            name=need(request, data, "name"),
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
               detail: dict[str, Any], *, tally_as: Tally | None = None,
               **kw: Any) -> web.Response:
    """Run one audited action on the agent in the URL and show the agent with its outcome;
    ``tally_as`` counts and logs it (its result, or its refusal)."""
    web_, agent_id, who = state.get(request), path_id(request), operator(request)
    try:
        done = await operators.audited(web_.ledger, who, action, audit.agent_target(agent_id),
                                       detail, on_agent, audit_agent=agent_id, agent_id=agent_id,
                                       operation=operation, actor=who.actor, **kw)
    except SmsmenuError as exc:
        if tally_as is not None:
            tally_as(None, exc)
        return await agent_view(request, error=exc.message(request[LANG], rule=True),
                                status=exc.http_status)
    if tally_as is not None:
        tally_as(done, None)
    return await agent_view(request, result={"action": action, **as_dict(done)})


async def _agent(request: web.Request) -> dict[str, Any]:
    """The agent in the URL as the pages show it."""
    try:
        found: dict[str, Any] = await state.get(request).ledger.transaction(
            partial(view_by_id, agent_id=path_id(request)))
    except UnknownAgent:
        raise PageNotFound() from None
    return found


async def _confirm_then(request: web.Request, data: dict[str, str], action: str,
                        words: Callable[[dict[str, Any]], dict[str, str]],
                        operation: Callable[..., Any], detail: dict[str, Any],
                        **kw: Any) -> web.Response:
    """Without the confirmation of exactly ``data``: the page saying what ``action`` will do
    to the agent (``words`` of its view fill the text); nothing changes. With it: the action."""
    if not confirm.confirmed(request, data):
        a = await _agent(request)
        what = translator(request[LANG])(f"confirm_op.{action}", agent=a["account_no"],
                                         name=a["name"], **words(a))
        return confirm.ask(request, data, what, f"{PREFIX}/ops/agents/{a['agent_id']}")
    return await _act(request, action, operation, detail, **kw)


def _none(a: dict[str, Any]) -> dict[str, str]:
    return {}


@routes.post("/ops/agents/{id}/deposit")
@operator_page("deposit")
async def deposit(request: web.Request) -> web.Response:
    data, web_ = await form(request), state.get(request)
    try:
        fen = money.parse_yuan(need(request, data, "amount"))
        money.check_counter_deposit(fen)
    except SmsmenuError as exc:
        agent_id = path_id(request)
        await operators.refused(web_.ledger, operator(request), "deposit",
                                audit.agent_target(agent_id), {"amount": data.get("amount", "")},
                                exc, agent_id)
        tally.deposit(web_.metrics, "counter", agent_id, 0, operator=operator(request).name,
                      refused=exc)
        return await agent_view(request, error=exc.message(request[LANG], rule=True), status=400)
    key = data.get("key", "")[:32] or secrets.token_hex(12)

    def words(a: dict[str, Any]) -> dict[str, str]:
        return {"amount": money.format_yuan(fen), "quota": money.format_yuan(
            money.invoice_quota(fen)), "after": money.format_yuan(a["available_fen"] + fen)}
    def counted(done: Deposit | None, refused: SmsmenuError | None) -> None:
        if done is None or not done.replayed:  # a refresh is no second deposit
            tally.deposit(web_.metrics, "counter", path_id(request), fen,
                          operator=operator(request).name, refused=refused)
    return await _confirm_then(request, {**data, "key": key}, "deposit", words, admin.deposit,
                               {"amount_fen": fen}, tally_as=counted, key=f"web-deposit:{key}",
                               amount_fen=fen, channel="counter")


@routes.post("/ops/agents/{id}/suspend")
@operator_page("suspend")
async def suspend(request: web.Request) -> web.Response:
    data = await form(request)
    on = data.get("suspended") == "1"
    return await _confirm_then(request, data, "suspend" if on else "resume", _none,
                               admin.set_flag, {"suspended": on}, suspended=on)


@routes.post("/ops/agents/{id}/unlock")
@operator_page("unlock")
async def unlock(request: web.Request) -> web.Response:
    return await _confirm_then(request, await form(request), "unlock", _none, admin.set_flag, {},
                               unlock=True)


@routes.post("/ops/agents/{id}/rate")
@operator_page("rate")
async def rate(request: web.Request) -> web.Response:
    data = await form(request)
    try:
        ppm = money.parse_rate(need(request, data, "rate"),
                               max_ppm=state.get(request).ledger.env.rules.max_rate_ppm)
    except SmsmenuError as exc:
        return await agent_view(request, error=exc.message(request[LANG], rule=True), status=400)

    def words(a: dict[str, Any]) -> dict[str, str]:
        return {"was": f"{a['rate_ppm'] / 10_000:g}%", "rate": f"{ppm / 10_000:g}%"}
    return await _confirm_then(request, data, "rate", words, admin.set_flag, {"rate_ppm": ppm},
                               rate_ppm=ppm)


@routes.post("/ops/agents/{id}/close")
@operator_page("close")
async def close(request: web.Request) -> web.Response:
    data = await form(request)
    key = data.get("key", "")[:32] or secrets.token_hex(12)

    def words(a: dict[str, Any]) -> dict[str, str]:
        return {"balance": money.format_yuan(a["balance_fen"])}
    return await _confirm_then(request, {**data, "key": key}, "close", words, admin.close, {},
                               key=f"web-close:{key}")
