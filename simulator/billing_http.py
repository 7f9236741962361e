"""billing_app: a BillingSimulator served over HTTP/JSON, replaceable by a real operator endpoint.

The six ``Billing`` calls (credit, reverse, status, balance, cancel, credits) follow the wire format
documented in ``smsmenu.server.billing`` (amounts are integer fen in fields ending ``_fen``); ``down``
answers 503 and a simulated timeout 504 (after applying the call when the timeout says so); with
``latency`` above the client's timeout the client times out for real while the simulator still
applies the call (a cancel too). Tester endpoints:

- ``POST /accounts`` ``{"kind", "number", "account_type"?, "balance_fen"?, "bills"?:
  {"YYYY-MM": due_fen}}`` -> 201 account: opens (or replaces) an account
- ``GET /accounts/{kind}/{number}`` -> 200 account, or 404 ``{"error"}``
- ``GET /accounts/{number}`` -> 200 ``{"number", "accounts": [account, ...]}`` (every kind holding
  that number), or 404 ``{"error"}`` when none
- ``POST /faults`` with any of ``{"latency": s, "failure_rate": p, "timeout_rate": p,
  "timeout_applies": p, "down": bool, "fail_next": n, "timeout_next": {"n", "applied"}}``
  -> 200 the current dials ``{"latency", "failure_rate", "timeout_rate", "timeout_applies",
  "down"}``

An account is ``{"kind", "number", "account_type", "balance_fen", "bills": {"YYYY-MM":
{"due_fen", "paid_fen"}}, "credits": {reference: amount_fen}}``; ``credits`` are the credits
applied to it and not reversed. A malformed request answers 400 ``{"error"}`` and changes nothing.
The tester endpoints ignore the fault dials.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from simulator.billing import BillingSimulator
from simulator.billing_http_io import SIM, BadRequest, body, error, faults, get
from simulator.billing_tester import add_tester_routes
from smsmenu.core.billing_wire import credit_to_json, result_to_json
from smsmenu.core.types import TargetKind

__all__ = ["SIM", "billing_app"]


async def _credit(request: web.Request) -> web.Response:
    data = await body(request)
    kind = TargetKind(get(data, "kind", str))
    number, reference = get(data, "number", str), get(data, "reference", str)
    result = await request.app[SIM].credit(kind, number, get(data, "amount_fen", int), reference)
    return web.json_response(result_to_json(result))


async def _reverse(request: web.Request) -> web.Response:
    data = await body(request)
    original, reference = get(data, "original_reference", str), get(data, "reference", str)
    return web.json_response(result_to_json(await request.app[SIM].reverse(original, reference)))


async def _status(request: web.Request) -> web.Response:
    result = await request.app[SIM].status(request.match_info["reference"])
    if result is None:
        return error(404, "unknown reference")
    return web.json_response(result_to_json(result))


async def _balance(request: web.Request) -> web.Response:
    kind, number = TargetKind(request.match_info["kind"]), request.match_info["number"]
    balance_fen = await request.app[SIM].balance(kind, number)
    return web.json_response({"kind": kind.value, "number": number, "balance_fen": balance_fen})


async def _cancel(request: web.Request) -> web.Response:
    reference = get(await body(request), "reference", str)
    return web.json_response(result_to_json(await request.app[SIM].cancel(reference)))


async def _credits(request: web.Request) -> web.Response:
    text = request.query.get("date", "")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day.isoformat() != text:  # not 20240515, 2024-W20-3 and the like
        raise BadRequest("date must be YYYY-MM-DD")
    credits = await request.app[SIM].credits(day)
    return web.json_response({"date": day.isoformat(),
                              "credits": [credit_to_json(c) for c in credits]})


def billing_app(sim: BillingSimulator) -> web.Application:
    """An aiohttp application serving ``sim``; run it with ``web.AppRunner`` or ``web.run_app``."""
    app = web.Application(middlewares=[faults])
    app[SIM] = sim
    app.router.add_post("/credit", _credit)
    app.router.add_post("/reverse", _reverse)
    app.router.add_get("/status/{reference}", _status)
    app.router.add_get("/balance/{kind}/{number}", _balance)
    app.router.add_post("/cancel", _cancel)
    app.router.add_get("/credits", _credits)
    add_tester_routes(app)
    return app
