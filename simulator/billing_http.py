"""billing_app: a BillingSimulator served over HTTP/JSON, replaceable by a real operator endpoint.

The four ``Billing`` calls follow the wire format documented in ``smsmenu.billing`` (amounts are
integer fen in fields ending ``_fen``); ``down`` answers 503 and a simulated timeout 504 (after
applying the call when the timeout says so); with ``latency`` above the client's timeout the client
times out for real while the simulator still applies the call. Tester endpoints:

- ``POST /accounts`` ``{"kind", "number", "account_type"?, "balance_fen"?, "bills"?:
  {"YYYY-MM": due_fen}}`` -> 201 account: opens (or replaces) an account
- ``GET /accounts/{kind}/{number}`` -> 200 account, or 404 ``{"error"}``
- ``POST /faults`` with any of ``{"latency": s, "failure_rate": p, "timeout_rate": p,
  "timeout_applies": p, "down": bool, "fail_next": n, "timeout_next": {"n", "applied"}}``
  -> 200 the current dials ``{"latency", "failure_rate", "timeout_rate", "timeout_applies",
  "down"}``

An account is ``{"kind", "number", "account_type", "balance_fen", "bills": {"YYYY-MM":
{"due_fen", "paid_fen"}}}``. A malformed request answers 400 ``{"error"}`` and changes nothing.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.billing import BillingSimulator
from simulator.billing_state import check_rate
from smsmenu.billing import result_to_json
from smsmenu.errors import BillingTimeout, BillingUnavailable
from smsmenu.types import TargetKind

__all__ = ["SIM", "billing_app"]

SIM = web.AppKey("billing_sim", BillingSimulator)


class BadRequest(Exception):
    """A request the simulator cannot read; answered 400."""


def _error(status: int, why: str) -> web.Response:
    return web.json_response({"error": why}, status=status)


@web.middleware
async def _faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BillingUnavailable:
        return _error(503, "billing unavailable")
    except BillingTimeout:
        return _error(504, "billing timed out")
    except (BadRequest, ValueError) as exc:
        return _error(400, str(exc))


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body is not a JSON object")
    return data


def _get(
    data: dict[str, Any], name: str, kind: type[Any] | tuple[type[Any], ...], default: Any = ...
) -> Any:
    value = data.get(name, default)
    if value is ...:
        raise BadRequest(f"{name} is missing")
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise BadRequest(f"{name} has the wrong type")
    return value


async def _credit(request: web.Request) -> web.Response:
    data = await _body(request)
    kind = TargetKind(_get(data, "kind", str))
    number, reference = _get(data, "number", str), _get(data, "reference", str)
    result = await request.app[SIM].credit(kind, number, _get(data, "amount_fen", int), reference)
    return web.json_response(result_to_json(result))


async def _reverse(request: web.Request) -> web.Response:
    data = await _body(request)
    original, reference = _get(data, "original_reference", str), _get(data, "reference", str)
    return web.json_response(result_to_json(await request.app[SIM].reverse(original, reference)))


async def _status(request: web.Request) -> web.Response:
    result = await request.app[SIM].status(request.match_info["reference"])
    if result is None:
        return _error(404, "unknown reference")
    return web.json_response(result_to_json(result))


async def _balance(request: web.Request) -> web.Response:
    kind, number = TargetKind(request.match_info["kind"]), request.match_info["number"]
    balance_fen = await request.app[SIM].balance(kind, number)
    return web.json_response({"kind": kind.value, "number": number, "balance_fen": balance_fen})


async def _open_account(request: web.Request) -> web.Response:
    data = await _body(request)
    bills = _get(data, "bills", dict, {})
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in bills.values()):
        raise BadRequest("bills must map YYYY-MM to an integer due_fen")
    account = request.app[SIM].open_account(
        _get(data, "kind", str), _get(data, "number", str),
        _get(data, "account_type", str, "prepaid"), _get(data, "balance_fen", int, 0), bills,
    )
    return web.json_response(account.as_json(), status=201)


async def _account(request: web.Request) -> web.Response:
    account = request.app[SIM].account(request.match_info["kind"], request.match_info["number"])
    if account is None:
        return _error(404, "no such account")
    return web.json_response(account.as_json())


async def _set_faults(request: web.Request) -> web.Response:
    data, sim = await _body(request), request.app[SIM]
    rates = {name: float(check_rate(name, _get(data, name, (int, float), getattr(sim, name))))
             for name in ("failure_rate", "timeout_rate", "timeout_applies")}
    latency = float(_get(data, "latency", (int, float), sim.latency))
    down = _get(data, "down", bool, sim.down)
    fail_next = _get(data, "fail_next", int, 0)
    timeout_next = _get(data, "timeout_next", dict, {"n": 0, "applied": False})
    n, applied = _get(timeout_next, "n", int), _get(timeout_next, "applied", bool)
    if latency < 0 or fail_next < 0 or n < 0:
        raise BadRequest("latency, fail_next and timeout_next.n must not be negative")
    for name, rate in rates.items():
        setattr(sim, name, rate)
    sim.latency, sim.down = latency, down
    sim.fail_next(fail_next)
    sim.timeout_next(n, applied)
    return web.json_response({**rates, "latency": latency, "down": down})


def billing_app(sim: BillingSimulator) -> web.Application:
    """An aiohttp application serving ``sim``; run it with ``web.AppRunner`` or ``web.run_app``."""
    app = web.Application(middlewares=[_faults])
    app[SIM] = sim
    app.router.add_post("/credit", _credit)
    app.router.add_post("/reverse", _reverse)
    app.router.add_get("/status/{reference}", _status)
    app.router.add_get("/balance/{kind}/{number}", _balance)
    app.router.add_post("/accounts", _open_account)
    app.router.add_get("/accounts/{kind}/{number}", _account)
    app.router.add_post("/faults", _set_faults)
    return app
