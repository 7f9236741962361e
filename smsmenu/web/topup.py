"""Online top-up (R-9): an order, the bank's page, and its signed notice credited exactly once."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from functools import partial
from typing import Any
from urllib.parse import urlencode

import structlog
from aiohttp import web

from ledger import admin, agents, money
from ledger.context import Env
from ledger.store.queries import Query
from smsmenu.core.bank_wire import sign, verify
from smsmenu.core.clock import iso
from smsmenu.core.errors import SmsmenuError
from smsmenu.web import state
from smsmenu.web.auth import agent_page, me
from smsmenu.web.errors import BadForm, PageNotFound
from smsmenu.web.forms import form, need, posted
from smsmenu.web.render import page
from smsmenu.web.state import LANG, PREFIX

routes = web.RouteTableDef()
log = structlog.get_logger("web.topup")
MERCHANT = "smsmenu"
COLUMNS = ("order_id", "agent_id", "amount_fen", "status", "bank_txn", "created_at", "paid_at")


def _orders(where: str, *params: Any) -> Query[list[dict[str, Any]]]:
    return Query(f"SELECT order_id, agent_id, amount, status, bank_txn, created_at, paid_at "
                 f"FROM web_topups WHERE {where} ORDER BY created_at DESC LIMIT 10", params,
                 lambda rows: [dict(zip(COLUMNS, r, strict=True)) for r in rows])


def _create(conn: sqlite3.Connection, order: str, agent_id: int, amount: int, now: str) -> None:
    conn.execute("INSERT INTO web_topups (order_id, agent_id, amount, status, created_at) "
                 "VALUES (?, ?, ?, 'created', ?)", (order, agent_id, amount, now))


def credit(conn: sqlite3.Connection, env: Env, now: dt.datetime, *,
           notice: dict[str, str]) -> str:
    """Apply a verified notice: the deposit and the order's status in ONE transaction; a repeat
    (the order already paid) changes nothing. The deposit's key is the order id."""
    row = conn.execute("SELECT agent_id, amount, status FROM web_topups WHERE order_id = ?",
                       (notice["order"],)).fetchone()
    if row is None:
        return "unknown order"
    agent_id, amount, status = row
    if str(amount) != notice["amount_fen"]:
        return "amount mismatch"
    if status == "paid":
        return "success"
    if notice.get("status") != "paid":
        conn.execute("UPDATE web_topups SET status = 'failed' WHERE order_id = ? AND "
                     "status = 'created'", (notice["order"],))
        return "success"
    agent = agents.by_id(conn, agent_id)
    admin.deposit(conn, env, now, key=f"topup:{notice['order']}", msisdn=agent.msisdn,
                  amount_fen=amount, channel="online")
    conn.execute("UPDATE web_topups SET status = 'paid', bank_txn = ?, paid_at = ? "
                 "WHERE order_id = ?", (notice.get("txn", ""), iso(now), notice["order"]))
    return "success"


@routes.get("/topup")
@agent_page
async def topup_form(request: web.Request) -> web.Response:
    orders = await state.get(request).ledger.read(_orders("agent_id = ?", me(request)["agent_id"]))
    return page(request, "topup.html", {"orders": orders, "amount": ""})


@routes.post("/topup")
@agent_page
async def topup(request: web.Request) -> web.StreamResponse:
    web_, agent, data = state.get(request), me(request), await form(request)
    try:
        amount = money.check_online_deposit(money.parse_yuan(need(request, data, "amount")))
    except SmsmenuError as exc:
        orders = await web_.ledger.read(_orders("agent_id = ?", agent["agent_id"]))
        return page(request, "topup.html", {"orders": orders, "amount": data.get("amount", ""),
                                            "error": exc.message(request[LANG])},
                    status=exc.http_status)
    order = f"T{secrets.token_hex(10).upper()}"
    await web_.ledger.writer.run(partial(_create, order=order, agent_id=agent["agent_id"],
                                         amount=amount, now=iso(web_.now())))
    fields = {"merchant": MERCHANT, "order": order, "amount_fen": str(amount),
              "notify_url": web_.url(f"{PREFIX}/topup/notify"),
              "return_url": web_.url(f"{PREFIX}/topup/{order}")}
    fields["sign"] = sign(web_.bank_key, fields)
    raise web.HTTPSeeOther(f"{web_.bank_url}/pay?{urlencode(fields)}")


@routes.get("/topup/{order}")
@agent_page
async def topup_done(request: web.Request) -> web.Response:
    order = request.match_info["order"]
    found = await state.get(request).ledger.read(_orders("order_id = ?", order))
    if not found or found[0]["agent_id"] != me(request)["agent_id"]:
        raise PageNotFound()
    return page(request, "topup_done.html", {"o": found[0],
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
        answer = await web_.ledger.op(credit, notice=data)
    except SmsmenuError as exc:
        log.error("topup.not_credited", order=data["order"], code=exc.code)
        return web.Response(status=409, text=exc.code)
    log.info("topup.notice", order=data["order"], answer=answer)
    return web.Response(status=200 if answer == "success" else 400, text=answer)
