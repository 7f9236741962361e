"""The whole server in one process: ledger, engine, HTTP/USSD, SMPP, SMGP and Kannel, outbox drain."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from ledger import Ledger
from ledger.passwords import load_secret
from ledger.store import health, web_operators
from smsmenu.core.clock import SystemClock
from smsmenu.core.settings import Settings
from smsmenu.core.types import Billing, Clock
from smsmenu.gateway.base import Gateway
from smsmenu.gateway.kannel import DLR_PATH, KannelGateway
from smsmenu.gateway.kannel import routes as kannel_routes
from smsmenu.server import simulators
from smsmenu.server.app import create_app
from smsmenu.server.billing import HttpBilling
from smsmenu.server.dispatch import Dispatcher
from smsmenu.server.listeners import listen, read_deadline
from smsmenu.server.readiness import Readiness
from smsmenu.server.smgp import Smgp
from smsmenu.server.smgp import prepare as prepare_smgp
from smsmenu.server.smpp import Smpp, prepare
from smsmenu.server.wiring import ReceiptBook
from smsmenu.states.engine import Engine
from smsmenu.states.notices import SmsNotices
from smsmenu.web import bootstrap, create_operator, security, setup_web

log = structlog.get_logger("server")
GC_YOUNG = 20_000
"""Allocations between collections of the youngest generation while serving (Python: 700)."""
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
    """The message transports' listener (``[http]``): /api/sms, /ussd, /kannel/*, /healthz..."""
    web_url: str = ""
    """The web portal's listener (``[web]``): /web/ (and the simulated bank, in demo mode)."""
    billing_url: str | None = None
    runners: list[web.AppRunner] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    smpp: Smpp | None = None
    """Our ESME (``smpp.gateway``) and the SMSC simulator (``smpp.smsc``) when they run."""
    smgp: Smgp | None = None
    """Our SMGP links (``smgp.gateway``) and the ISMG simulator (``smgp.ismg``) when they run."""
    receipts: ReceiptBook | None = None
    kannel: KannelGateway | None = None
    readiness: Readiness = field(default_factory=Readiness)
    """``recovered`` once start-up (recovery, leases released, parts started) is done."""

    @property
    def gateways(self) -> list[Gateway]:
        return self.dispatcher.gateways


def instance_id(settings: Settings) -> str:
    """This server's id on the database: ``[server] instance``, else ``hostname:http_port``."""
    return settings.server.instance or f"{socket.gethostname()}:{settings.http.port}"


def make_billing(settings: Settings, clock: Clock) -> Billing:
    b = settings.billing
    if b.mode == "sim":
        return simulators.billing_simulator(clock=clock, latency=b.sim_latency_s,
                                            failure_rate=b.sim_failure_rate,
                                            timeout_rate=b.sim_timeout_rate, seed=None)
    return HttpBilling(b.url, timeout=b.timeout_s, ca_file=b.ca_file)


async def seed_demo(ledger: Ledger) -> dict[str, str] | None:
    """On an empty database: a demo agent with a 1000 yuan deposit, to try the menu at once."""
    if await ledger.read(health.agent_count()):
        return None
    await ledger.open_agent(msisdn=DEMO["msisdn"], name=DEMO["name"],
                            tx_password=DEMO["tx_password"], mgmt_password=DEMO["mgmt_password"])
    await ledger.deposit(key=f"demo-{uuid.uuid4().hex}", msisdn=DEMO["msisdn"], amount_fen=100_000,
                         channel="counter")
    return DEMO


async def seed_operator(ledger: Ledger) -> dict[str, str] | None:
    """On a database without operators: a supervisor ``admin`` with a fresh random password."""
    if await ledger.read(web_operators.count()):
        return None
    password = secrets.token_urlsafe(9)
    await create_operator(ledger, "admin", password, "supervisor")
    return {"name": "admin", "password": password}


@contextlib.asynccontextmanager
async def running(settings: Settings, *, gateways: list[Gateway] | None = None,
                  clock: Clock | None = None, billing: Billing | None = None,
                  demo: bool = False, seed: bool | None = None, smpp: bool = False,
                  dispatch_interval: float = 0.5) -> AsyncIterator[Running]:
    """Start everything; on exit stop it in order: unbind, stop sending, flush the ledger.

    Two listeners: the message transports, ``/healthz`` and ``/metrics`` on ``[http]``; the
    web portal on ``[web]``. ``smpp``: also run the ``[smpp]`` binds (and the SMSC simulator if
    ``[smpp] simulator``, its handsets' API under ``/smsc`` behind ``[smpp] simulator_token``)
    and the ``[smgp]`` links (the ISMG simulator's handsets under ``/ismg``, and ``/smsc`` when
    no SMSC simulator runs);
    ``serve`` asks for it. A ``[kannel] sendsms_url`` adds the Kannel gateway and, with a
    ``[kannel] token``, its ``/kannel/mo`` and ``/kannel/dlr`` routes. A billing simulator is
    served on ``[billing] url``. ``demo``: the simulated bank under ``/bank/`` (else only a
    ``[bank] url`` offers online top-up) and, with ``seed`` (default: ``demo``), the demo agent
    and operator on an empty database. ``serve`` checks what each mode may start.
    """
    seed = demo if seed is None else seed
    clock = clock or SystemClock(settings.ledger.timezone)
    billing = billing or make_billing(settings, clock)
    ledger = await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=load_secret(
        settings.ledger.secret_file, os.environ.get("SMSMENU_SECRET")))
    dispatcher = Dispatcher(ledger, list(gateways or []), interval=dispatch_interval,
                            instance=instance_id(settings))
    engine = Engine(ledger, on_queued=dispatcher.send_now,
                    idle_timeout=dt.timedelta(seconds=settings.menu.idle_timeout_s),
                    instance=dispatcher.instance,
                    billing_hold=dt.timedelta(seconds=settings.billing.timeout_s + 10))
    run = Running(ledger, engine, billing, dispatcher, "", receipts=ReceiptBook(ledger))
    try:
        app = await _gateways(run, settings, clock, smpp)
        h = settings.http
        runner, port = await listen(app, h.host, h.port, idle_timeout=h.idle_timeout_s)
        run.runners.append(runner)
        run.http_url = f"http://{h.host}:{port}"
        if run.kannel is not None and not run.kannel.dlr_url:
            run.kannel.dlr_url = f"{run.http_url}{DLR_PATH}"
        w = settings.web
        runner, port = await listen(_portal(run, settings, clock, demo), w.host, w.port,
                                    idle_timeout=w.idle_timeout_s)
        run.runners.append(runner)
        run.web_url = f"http://{w.host}:{port}"
        if (sim := simulators.simulated(billing)) is not None:
            url = urlsplit(settings.billing.url)
            b_runner, b_port = await listen(simulators.billing_app(sim), url.hostname or "127.0.0.1",
                                            url.port or 0, idle_timeout=h.idle_timeout_s)
            run.runners.append(b_runner)
            run.billing_url = f"http://{url.hostname}:{b_port}"
        counts = await ledger.recover()
        log.info("server.recovered", **counts)
        if seed and (agent := await seed_demo(ledger)):
            print(f"demo agent: {agent['msisdn']}  transaction password {agent['tx_password']}  "
                  f"management password {agent['mgmt_password']}", flush=True)
        if await bootstrap(ledger, os.environ) is None and seed and (op := await seed_operator(ledger)):
            print(f"demo operator: {op['name']} (supervisor)  password {op['password']}  "
                  f"-> {run.web_url}/web/ops/", flush=True)
            print("  (shown only now; a new one: smsmenu operator reset-password "
                  f"{op['name']})", flush=True)
        if run.smpp is not None:
            await run.smpp.start()  # MO flows from here on: after recovery
        if run.smgp is not None:
            await run.smgp.start()
        await dispatcher.release()  # what this instance had leased before a crash: due now
        run.tasks.append(asyncio.create_task(dispatcher.run(), name="outbox"))
        retention = dt.timedelta(hours=settings.menu.inbox_retention_h)
        run.tasks.append(asyncio.create_task(engine.prune_forever(retention), name="prune"))
        stale = ledger.env.rules.reservation_timeout / 2
        run.tasks.append(asyncio.create_task(
            ledger.recover_forever(stale.total_seconds() / 2, stale), name="recover"))
        run.readiness.recovered = True  # /healthz may answer 200 from here on
        log.info("server.started", http=run.http_url, web=run.web_url, billing=run.billing_url,
                 gateways=[g.name for g in dispatcher.gateways], instance=dispatcher.instance)
        with tuned_gc():
            yield run
    finally:
        await _stop(run)


_gc_before: list[tuple[int, int, int]] = []
"""The GC thresholds before the first of the servers running in this process tuned them."""


@contextlib.contextmanager
def tuned_gc(young: int = GC_YOUNG) -> Iterator[None]:
    """While serving: what start-up made is frozen out of the cyclic GC's scans (``gc.freeze``)
    and young objects are collected every ``young`` allocations, not 700 (a message makes many
    short-lived containers: most are gone before a scan). Restored when the last server stops."""
    if not _gc_before:
        _gc_before.append(gc.get_threshold())
        gc.freeze()
        gc.set_threshold(young, *_gc_before[0][1:])
    else:
        _gc_before.append(_gc_before[0])
    try:
        yield
    finally:
        before = _gc_before.pop()
        if not _gc_before:
            gc.set_threshold(*before)
            gc.unfreeze()


async def _gateways(run: Running, settings: Settings, clock: Clock, smpp: bool
                    ) -> web.Application:  # fmt: skip
    """SMPP and SMGP (simulators started, clients built) and Kannel as configured, then the
    transports' app."""
    if smpp:
        receipts = run.receipts or ReceiptBook(run.ledger)
        run.smpp = await prepare(settings.smpp, run.engine, receipts, clock)
        if run.smpp is not None:
            run.gateways.insert(0, run.smpp.gateway)
        run.smgp = await prepare_smgp(settings.smgp, run.engine, receipts, clock)
        if run.smgp is not None:
            run.gateways.insert(1 if run.smpp is not None else 0, run.smgp.gateway)
    if settings.kannel.sendsms_url:
        run.kannel = KannelGateway(settings.kannel)
        run.gateways.append(run.kannel)
    app = create_app(settings, run.ledger, run.billing, run.gateways, clock, run.engine,
                     ready=run.readiness)
    if run.kannel is not None and settings.kannel.token:
        app.add_routes(kannel_routes(run.engine, clock, run.receipts,
                                     accepted=settings.kannel.token))
    smsc = run.smpp is not None and run.smpp.smsc is not None
    if run.smpp is not None and run.smpp.smsc is not None:
        app.add_subapp("/smsc", simulators.smsc_control_app(
            run.smpp.smsc, tokens=settings.smpp.simulator_token))
    if run.smgp is not None and run.smgp.ismg is not None:
        tokens = settings.smgp.simulator_token or settings.smpp.simulator_token
        for prefix in ("/ismg",) if smsc else ("/ismg", "/smsc"):  # /smsc: the phone's default
            app.add_subapp(prefix, simulators.ismg_control_app(run.smgp.ismg, tokens=tokens))
    return app


def _portal(run: Running, settings: Settings, clock: Clock, demo: bool) -> web.Application:
    """The web listener's app: the portal, and a bank (the simulated one in demo mode)."""
    app = web.Application(middlewares=[read_deadline(settings.web.read_timeout_s)],
                          client_max_size=64 * 1024)
    setup_web(app, run.ledger, settings, clock, bank_url=settings.bank.url or None,
              simulated_bank=simulators.bank_app if demo else None, metrics=run.engine.metrics)
    security.protect(app)  # the security headers on every answer of the listener, errors too
    return app


async def _stop(run: Running) -> None:
    """Stop taking messages (unbind, close HTTP: running steps answer first), stop sending
    (sends on the wire finish), then flush the ledger; the SMSC simulator goes last."""
    if run.smpp is not None:
        await run.smpp.gateway.aclose()
    if run.smgp is not None:
        await run.smgp.gateway.aclose()
    for r in reversed(run.runners):
        await r.cleanup()
    for task in run.tasks:
        task.cancel()
    await asyncio.gather(*run.tasks, return_exceptions=True)
    await run.dispatcher.aclose()
    for gateway in run.gateways:
        await gateway.aclose()
    if run.receipts is not None:
        await run.receipts.aclose()
    await run.ledger.aclose()  # the writer commits what is queued, then closes
    if run.smpp is not None:
        await run.smpp.aclose()
    if run.smgp is not None:
        await run.smgp.aclose()
    if isinstance(run.billing, HttpBilling):
        await run.billing.aclose()
    log.info("server.stopped")
