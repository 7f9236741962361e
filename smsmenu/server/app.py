"""The aiohttp application: every HTTP route of the server, wired from injected parts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable, Sequence

import structlog
from aiohttp import web

from ledger import Ledger
from ledger.store import health
from smsmenu.core import tokens
from smsmenu.core.errors import SmsmenuError
from smsmenu.core.metrics import CONTENT_TYPE
from smsmenu.core.settings import Settings
from smsmenu.core.types import Billing, Clock
from smsmenu.gateway import http as http_gateway
from smsmenu.gateway import ussd as ussd_gateway
from smsmenu.gateway.base import Gateway
from smsmenu.server import readiness
from smsmenu.server.listeners import read_deadline
from smsmenu.states.engine import Engine

ENGINE = web.AppKey("engine", Engine)
LEDGER = web.AppKey("ledger", Ledger)
GATEWAYS = web.AppKey("gateways", list[Gateway])
READINESS = web.AppKey("readiness", readiness.Readiness)
METRICS_TOKENS = web.AppKey("metrics_tokens", tuple[str, ...])
log = structlog.get_logger("http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, body: dict[str, object]) -> web.Response:
    return web.json_response({"error": body}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Our errors become their HTTP status with a JSON body; anything else a 500, never a trace."""
    try:
        return await handler(request)
    except SmsmenuError as exc:
        lang = "zh" if "zh" in request.headers.get("Accept-Language", "zh") else "en"
        return _error(exc.http_status, exc.as_dict(lang))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("http.unhandled", path=request.path)
        return _error(500, {"code": "E_INTERNAL", "rule": "", "message": "internal error"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format; pending reservations are counted at scrape time. With
    ``[metrics] token``: 401 without ``Authorization: Bearer`` one of them."""
    accepted: tuple[str, ...] = request.app[METRICS_TOKENS]
    if accepted:
        tokens.require(request, accepted, "/metrics")
    engine = request.app[ENGINE]
    engine.metrics.pending = await request.app[LEDGER].read(health.pending_reservations())
    engine.metrics.oldest_pending_s = await request.app[LEDGER].oldest_pending_seconds()
    return web.Response(body=engine.metrics.render(),
                        headers={"Content-Type": CONTENT_TYPE})


async def healthz(request: web.Request) -> web.Response:
    """200 when ready (start-up recovery done, ledger answers, storage takes a write) and each
    gateway is up; else 503 saying why."""
    gateways: list[Gateway] = request.app[GATEWAYS]
    body = await readiness.report(request.app[LEDGER], request.app[READINESS], gateways)
    return web.json_response(body, status=200 if body["ok"] else 503)


def create_app(settings: Settings, ledger: Ledger, billing: Billing,
               gateways: Sequence[Gateway], clock: Clock, engine: Engine | None = None,
               ready: readiness.Readiness | None = None) -> web.Application:
    """The message transports' listener: JSON SMS API, USSD callback, health, metrics.

    A transport whose token (``[api] token``, ``[ussd] token``) is unset is not served (404).
    ``ready``: the server's start-up state for ``/healthz`` (default: nothing to wait for)."""
    del billing  # the engine reaches billing through the ledger; kept for a uniform signature
    idle = dt.timedelta(seconds=settings.menu.idle_timeout_s)
    engine = engine or Engine(ledger, idle_timeout=idle)
    app = web.Application(middlewares=[errors, read_deadline(settings.http.read_timeout_s)],
                          client_max_size=64 * 1024)
    app[ENGINE], app[LEDGER], app[GATEWAYS] = engine, ledger, list(gateways)
    app[READINESS] = ready or readiness.Readiness(recovered=True)
    app[METRICS_TOKENS] = settings.metrics.token
    if settings.api.token:
        app.add_routes(http_gateway.routes(engine, clock, settings.api.token))
    if settings.ussd.token:
        app.add_routes(ussd_gateway.routes(engine, clock, settings.ussd))
    def transports() -> list[Gateway]:
        return app[GATEWAYS]

    engine.metrics.watch(transports)
    app.add_routes([web.get("/healthz", healthz), web.get("/metrics", metrics)])
    return app
