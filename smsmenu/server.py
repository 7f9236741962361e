"""`smsmenu serve`: the whole server in one process: ledger, engine, HTTP/USSD, outbox drain."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from ledger import Ledger
from simulator.billing import BillingSimulator
from simulator.billing_http import billing_app
from smsmenu import logs
from smsmenu.app import create_app
from smsmenu.billing import HttpBilling
from smsmenu.cli_common import Subparsers, common_options, load
from smsmenu.clock import SystemClock
from smsmenu.dispatch import Dispatcher
from smsmenu.gateway.base import Gateway
from smsmenu.settings import Settings
from smsmenu.states.engine import DDL, Engine
from smsmenu.types import Billing, Clock

log = structlog.get_logger("server")
DEMO = {"msisdn": "18900000001", "name": "演示代办户", "tx_password": "135790",
        "mgmt_password": "246800"}


@dataclass
class Running:
    """A started server: its parts and the addresses it listens on."""

    ledger: Ledger
    engine: Engine
    billing: Billing
    dispatcher: Dispatcher
    http_url: str
    billing_url: str | None = None
    runners: list[web.AppRunner] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def _listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    return runner, int(addresses[0][1]) if addresses else port


def make_billing(settings: Settings, clock: Clock) -> Billing:
    b = settings.billing
    if b.mode == "sim":
        return BillingSimulator(clock=clock, latency=b.sim_latency_s,
                                failure_rate=b.sim_failure_rate, timeout_rate=b.sim_timeout_rate,
                                seed=None)
    return HttpBilling(b.url, timeout=b.timeout_s)


async def seed_demo(ledger: Ledger) -> dict[str, str] | None:
    """On an empty database: a demo agent with a 1000 yuan deposit, to try the menu at once."""
    from ledger.queries import scalar
    if await ledger.read(scalar("SELECT COUNT(*) FROM agents")):
        return None
    await ledger.open_agent(**DEMO)
    await ledger.deposit(key=f"demo-{uuid.uuid4().hex}", msisdn=DEMO["msisdn"], amount_fen=100_000,
                         channel="counter")
    return DEMO


@contextlib.asynccontextmanager
async def running(settings: Settings, *, gateways: list[Gateway] | None = None,
                  clock: Clock | None = None, billing: Billing | None = None,
                  demo: bool = False) -> AsyncIterator[Running]:
    """Start everything; on exit stop it in order (no half transaction: the writer drains)."""
    clock = clock or SystemClock(settings.ledger.timezone)
    billing = billing or make_billing(settings, clock)
    gateways = gateways or []
    ledger = await Ledger.open(settings, billing, clock, extra_ddl=DDL)
    engine = Engine(ledger, idle_timeout=dt.timedelta(seconds=settings.menu.idle_timeout_s))
    dispatcher = Dispatcher(ledger, gateways)
    app = create_app(settings, ledger, billing, gateways, clock, engine)
    runner, port = await _listen(app, settings.http.host, settings.http.port)
    run = Running(ledger, engine, billing, dispatcher, f"http://{settings.http.host}:{port}",
                  runners=[runner])
    try:
        if isinstance(billing, BillingSimulator):
            url = urlsplit(settings.billing.url)
            b_runner, b_port = await _listen(billing_app(billing), url.hostname or "127.0.0.1",
                                             url.port or 0)
            run.runners.append(b_runner)
            run.billing_url = f"http://{url.hostname}:{b_port}"
        counts = await ledger.recover()
        log.info("server.recovered", **counts)
        if demo and (agent := await seed_demo(ledger)):
            print(f"demo agent: {agent['msisdn']}  transaction password {agent['tx_password']}  "
                  f"management password {agent['mgmt_password']}", flush=True)
        run.tasks.append(asyncio.create_task(dispatcher.run(), name="outbox"))
        log.info("server.started", http=run.http_url, billing=run.billing_url)
        yield run
    finally:
        for task in run.tasks:
            task.cancel()
        await asyncio.gather(*run.tasks, return_exceptions=True)
        for gateway in gateways:
            await gateway.aclose()
        for r in reversed(run.runners):
            await r.cleanup()
        await ledger.aclose()
        if isinstance(billing, HttpBilling):
            await billing.aclose()
        log.info("server.stopped")


async def serve(settings: Settings, demo: bool = True) -> int:
    """Run until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running(settings, demo=demo) as run:
        print(f"smsmenu listening on {run.http_url} (POST /api/sms, POST /ussd, GET /healthz)",
              flush=True)
        await stop.wait()
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `serve`."""
    p = subparsers.add_parser("serve", parents=[common_options()],
                              help="run the server (what `make run` starts)",
                              description="Start the ledger, the menu engine, HTTP and USSD, the "
                                          "billing simulator and the outbox drain; Ctrl-C stops.")
    p.add_argument("--http-port", type=int, help="HTTP port (default: settings [http] port)")
    p.add_argument("--no-demo", action="store_true",
                   help="do not create the demo agent on an empty database")
    p.set_defaults(func=_serve_command)


async def _serve_command(args: argparse.Namespace) -> int:
    logs.configure(level="info")
    settings = load(args)
    if args.http_port is not None:
        settings = settings.replace("http", port=args.http_port)
    if args.billing_url:
        settings = settings.replace("billing", mode="http", url=args.billing_url)
    return await serve(settings, demo=not args.no_demo)
