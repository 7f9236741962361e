"""Online top-up (R-9): an order, the bank's page, and its signed notice credited exactly once."""

from __future__ import annotations

import datetime as dt
import secrets
from functools import partial
from urllib.parse import urlencode

import structlog
from aiohttp import web

from ledger import admin, agents, money
from ledger.context import Env
from ledger.store import Conn, web_topup
from smsmenu.core.bank_wire import sign, verify
from smsmenu.core.errors import SmsmenuError
from smsmenu.web import state, tally
from smsmenu.web.auth import agent_page, me
from smsmenu.web.errors import BadForm, PageNotFound
from smsmenu.web.forms import form, need, posted
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()
log = structlog.get_logger("web.topup")
MERCHANT = "smsmenu"


def credit(conn: Conn, env: Env, now: dt.datetime, *,
           notice: dict[str, str]) -> tuple[str, int, int]:
    """Apply a verified notice: the deposit and the order's status in ONE transaction; a repeat
    (the order already paid) changes nothing. The deposit's key is the order id. The answer to
    the bank, and the agent and fen deposited now (0, 0 when nothing was)."""
    order = web_topup.get(conn, order_id=notice["order"])
    if order is None:
        return "unknown order", 0, 0
    if str(order.amount_fen) != notice["amount_fen"]:
        return "amount mismatch", 0, 0
    if order.status == "paid":
        return "success", 0, 0
    if notice.get("status") != "paid":
        web_topup.mark_failed(conn, order_id=order.order_id)
        return "success", 0, 0
    agent = agents.by_id(conn, order.agent_id)
    admin.deposit(conn, env, now, key=f"topup:{order.order_id}", msisdn=agent.msisdn,
                  amount_fen=order.amount_fen, channel="online")
    web_topup.mark_paid(conn, order_id=order.order_id, bank_txn=notice.get("txn", ""), at=now)
    return "success", agent.id, order.amount_fen


@routes.get("/topup")
@agent_page
async def topup_form(request: web.Request) -> web.Response:
    orders = await state.get(request).ledger.read(web_topup.of_agent(me(request)["agent_id"]))
    return page(request, "topup.html", {"orders": orders, "amount": ""})


@routes.post("/topup")
@agent_page
async def topup(request: web.Request) -> web.StreamResponse:
    web_, agent, data = state.get(request), me(request), await form(request)
    try:
        amount = money.check_online_deposit(money.parse_yuan(need(request, data, "amount")))
    except SmsmenuError as exc:
        orders = await web_.ledger.read(web_topup.of_agent(agent["agent_id"]))
        return page(request, "topup.html", {"orders": orders, "amount": data.get("amount", ""),
                                            "error": exc.message(request[LANG])},
                    status=exc.http_status)
    order = f"T{secrets.token_hex(10).upper()}"
    await web_.ledger.writer.run(partial(web_topup.create, order_id=order,
                                         agent_id=agent["agent_id"], amount_fen=amount,
                                         created=web_.now()))
    fields = {"merchant": MERCHANT, "order": order, "amount_fen": str(amount),
              "notify_url": web_.url(f"{PREFIX}/topup/notify"),
              "return_url": web_.url(f"{PREFIX}/topup/{order}")}
    fields["sign"] = sign(web_.bank_key, fields)
    raise web.HTTPSeeOther(f"{web_.bank_url}/pay?{urlencode(fields)}")


@routes.get("/topup/{order}")
@agent_page
async def topup_done(request: web.Request) -> web.Response:
    order = request.match_info["order"]
    found = await state.get(request).ledger.read(web_topup.by_id(order))
    if found is None or found.agent_id != me(request)["agent_id"]:
        raise PageNotFound()
    return page(request, "topup_done.html", {"o": found,
                                             "cancelled": "cancelled" in request.query})


@routes.post("/topup/notify")
async def notify(request: web.Request) -> web.Response:
    """The bank's server-to-server notice; only a valid signature can change anything. Its
    answers are plain text: ``success``, or what is wrong (400, 403, 409)."""
    web_ = state.get(request)
    try:
        data = {k: v for k, v in (await posted(request)).items() if isinstance(v, str)}
    except BadForm as exc:
        return web.Response(status=400, text=f"{exc.code}: {exc.message('en')}")
    wanted = ("merchant", "order", "amount_fen", "status", "txn", "sign")
    if set(data) != set(wanted) or not verify(web_.bank_key, data) or data["merchant"] != MERCHANT:
        log.warning("topup.bad_signature", order=data.get("order", "")[:40])
        return web.Response(status=403, text="bad signature")
    try:
        answer, agent_id, deposited = await web_.ledger.transaction(partial(credit, notice=data))
    except SmsmenuError as exc:
        log.error("topup.not_credited", order=data["order"], code=exc.code)
        return web.Response(status=409, text=exc.code)
    log.info("topup.notice", order=data["order"], answer=answer)
    if deposited:
        tally.deposit(web_.metrics, "online", agent_id, deposited)
    return web.Response(status=200 if answer == "success" else 400, text=answer)
