"""The SMSC simulator as a process of its own for chaos runs, with its faults on HTTP.

``python -m simulator.chaos.smsc_proc --port P --control-port C [--redeliver-after S]``: SMPP on
127.0.0.1:P (account ``smsmenu:secret``); on 127.0.0.1:C the handsets' API under ``/smsc``
(``simulator.smsc_http``) and:

- ``POST /chaos/send/{msisdn}`` ``{"text"}`` -> 202: an MO text, tracked until the ESME acks it
- ``POST /chaos/drop`` -> 200: cut every ESME link at once (no unbind)
- ``POST /chaos/lose-acks`` ``{"n"}`` -> 200: act as if the next N deliver_sm_resp were lost
- ``GET /chaos/stats`` -> ``{"bound", "unacked", "sent", "mo_attempts", "redeliveries", "binds"}``
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from aiohttp import web

from simulator.smsc import MoTicket, SmscSimulator
from simulator.smsc_http import smsc_control_app

ACCOUNT = ("smsmenu", "secret")
SMSC = web.AppKey("chaos_smsc", SmscSimulator)
TICKETS = web.AppKey("chaos_tickets", list[MoTicket])


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data


async def _send(request: web.Request) -> web.Response:
    text = (await _body(request)).get("text")
    if not isinstance(text, str) or not text or len(text) > 160:
        raise web.HTTPBadRequest(text="'text' must be 1 to 160 characters")
    ticket = await request.app[SMSC].handset(request.match_info["msisdn"]).send(text)
    request.app[TICKETS].append(ticket)
    return web.json_response({"parts": ticket.parts}, status=202)


async def _drop(request: web.Request) -> web.Response:
    await request.app[SMSC].drop_links()
    return web.json_response({"dropped": True})


async def _lose_acks(request: web.Request) -> web.Response:
    n = (await _body(request)).get("n")
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 1000:
        raise web.HTTPBadRequest(text="'n' must be an integer 0..1000")
    request.app[SMSC].faults.lose_mo_acks = n
    return web.json_response({"lose_mo_acks": n})


async def _stats(request: web.Request) -> web.Response:
    smsc, tickets = request.app[SMSC], request.app[TICKETS]
    unacked = sum(1 for t in tickets if t.acked_parts < t.parts)
    return web.json_response({
        "bound": len(smsc.binds), "unacked": unacked, "sent": len(tickets),
        "mo_attempts": smsc.stats.mo_attempts, "redeliveries": smsc.stats.redeliveries,
        "binds": smsc.stats.binds, "lose_mo_acks": smsc.faults.lose_mo_acks})


def chaos_app(smsc: SmscSimulator) -> web.Application:
    """The handsets' API under ``/smsc`` and the fault routes under ``/chaos``."""
    app = web.Application()
    app[SMSC], app[TICKETS] = smsc, []
    app.add_subapp("/smsc", smsc_control_app(smsc))
    app.router.add_post("/chaos/send/{msisdn:[0-9]{3,20}}", _send)
    app.router.add_post("/chaos/drop", _drop)
    app.router.add_post("/chaos/lose-acks", _lose_acks)
    app.router.add_get("/chaos/stats", _stats)
    return app


async def serve(port: int, control_port: int, redeliver_after: float) -> None:
    """Run until SIGTERM or SIGINT."""
    smsc = SmscSimulator(dict([ACCOUNT]), port=port, redeliver_after=redeliver_after)
    await smsc.start()
    runner = web.AppRunner(chaos_app(smsc), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", control_port).start()
        print(f"chaos SMSC on 127.0.0.1:{smsc.port}, control on 127.0.0.1:{control_port}",
              flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        await smsc.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--redeliver-after", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.control_port, args.redeliver_after))


if __name__ == "__main__":
    main()
