"""The simulated BOSS's tester endpoints: open and inspect accounts, turn the fault dials."""

from __future__ import annotations

from aiohttp import web

from simulator.billing import BillingSimulator
from simulator.billing_http_io import SIM, BadRequest, body, error, get
from simulator.billing_state import Account, check_rate
from smsmenu.core.types import TargetKind


def add_tester_routes(app: web.Application) -> None:
    """``POST /accounts``, ``GET /accounts/{kind}/{number}``, ``GET /accounts/{number}`` and
    ``POST /faults`` (formats in ``simulator.billing_http``); they ignore the fault dials."""
    app.router.add_post("/accounts", _open_account)
    app.router.add_get("/accounts/{kind}/{number}", _account)
    app.router.add_get("/accounts/{number}", _accounts)
    app.router.add_post("/faults", _set_faults)


async def _open_account(request: web.Request) -> web.Response:
    data = await body(request)
    bills = get(data, "bills", dict, {})
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in bills.values()):
        raise BadRequest("bills must map YYYY-MM to an integer due_fen")
    account = request.app[SIM].open_account(
        get(data, "kind", str), get(data, "number", str),
        get(data, "account_type", str, "prepaid"), get(data, "balance_fen", int, 0), bills,
    )
    return web.json_response(_account_json(request.app[SIM], account), status=201)


async def _account(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    account = sim.account(request.match_info["kind"], request.match_info["number"])
    if account is None:
        return error(404, "no such account")
    return web.json_response(_account_json(sim, account))


async def _accounts(request: web.Request) -> web.Response:
    sim, number = request.app[SIM], request.match_info["number"]
    found = [a for a in (sim.account(kind, number) for kind in TargetKind) if a is not None]
    if not found:
        return error(404, "no such account")
    return web.json_response({"number": number,
                              "accounts": [_account_json(sim, a) for a in found]})


def _account_json(sim: BillingSimulator, account: Account) -> dict[str, object]:
    return account.as_json(sim.books.credits_of((account.kind, account.number)))


async def _set_faults(request: web.Request) -> web.Response:
    data, sim = await body(request), request.app[SIM]
    rates = {name: float(check_rate(name, get(data, name, (int, float), getattr(sim, name))))
             for name in ("failure_rate", "timeout_rate", "timeout_applies")}
    latency = float(get(data, "latency", (int, float), sim.latency))
    down = get(data, "down", bool, sim.down)
    fail_next = get(data, "fail_next", int, 0)
    timeout_next = get(data, "timeout_next", dict, {"n": 0, "applied": False})
    n, applied = get(timeout_next, "n", int), get(timeout_next, "applied", bool)
    if latency < 0 or fail_next < 0 or n < 0:
        raise BadRequest("latency, fail_next and timeout_next.n must not be negative")
    for name, rate in rates.items():
        setattr(sim, name, rate)
    sim.latency, sim.down = latency, down
    sim.fail_next(fail_next)
    sim.timeout_next(n, applied)
    return web.json_response({**rates, "latency": latency, "down": down})
