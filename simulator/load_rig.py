"""The system under load: its own in-process server (HTTP, SMPP via the SMSC simulator, SMGP via the
ISMG simulator) or one running."""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from ledger import Ledger
from ledger.passwords import load_secret
from simulator.billing import BillingSimulator
from simulator.ismg import IsmgSimulator
from simulator.load_agents import Late, Step
from simulator.smsc import SmscSimulator
from simulator.smsc_handset import Received
from simulator.smsc_http import RemoteHandset
from smsmenu.core.clock import SystemClock
from smsmenu.core.health import WAIT_S, wait_healthy
from smsmenu.core.settings import Settings
from smsmenu.core.tokens import new_smpp_password, new_token
from smsmenu.states.notices import SmsNotices


class HandsetLike(Protocol):
    """What the load generator needs of a handset: in-process (``Handset``) or ``RemoteHandset``."""

    inbox: list[Received]

    async def send(self, text: str) -> object: ...

    async def receive(self, timeout: float = 5.0) -> Received: ...  # noqa: ASYNC109


@dataclass(frozen=True)
class Line:
    """How agents reach the server: ``step`` (one MO, its reply), ``late`` (replies unasked)."""

    step: Step
    late: Late


@dataclass
class Rig:
    """Where load goes: the HTTP URL, the handsets (SMPP) and the ledger to fund and verify."""

    ledger: Ledger
    http_url: str
    handset: Callable[[str], HandsetLike] | None = None
    smsc: SmscSimulator | IsmgSimulator | None = None
    control_url: str | None = None
    billing: BillingSimulator | None = None
    billing_url: str | None = None
    http: aiohttp.ClientSession | None = None
    api_token: str = ""
    """``Authorization: Bearer`` for ``/api/sms``."""
    control_token: str = ""
    """``Authorization: Bearer`` for the SMSC simulator's handset API."""

    def line(self, via: str, timeout: float) -> Line:
        """The agents' line over HTTP or over the simulator's handsets (SMSC or ISMG)."""
        return _http_line(self, timeout) if via == "http" else _smpp_line(self, timeout)


def _http_line(rig: Rig, timeout: float) -> Line:
    url, ids, run = f"{rig.http_url}/api/sms", itertools.count(1), uuid.uuid4().hex[:8]
    limit = aiohttp.ClientTimeout(total=timeout)
    headers = {"Authorization": f"Bearer {rig.api_token}"}

    async def step(msisdn: str, text: str) -> str:
        assert rig.http is not None
        body = {"from": msisdn, "text": text, "id": f"load-{run}-{next(ids)}"}
        async with rig.http.post(url, json=body, timeout=limit, headers=headers) as resp:
            if resp.status != 200:
                raise ConnectionError(f"HTTP {resp.status}")
            replies = (await resp.json())["replies"]
        return next((r["text"] for r in replies if r["to"] == msisdn), "")

    async def late(msisdn: str, quiet: float) -> list[str]:
        return []  # each request carries its own replies: nothing comes unasked

    return Line(step, late)


def _smpp_line(rig: Rig, timeout: float) -> Line:
    """Handsets: a reply is the next text received, so one that comes late (a duplicated MO, a
    timeout) would pass for the answer to the next MO until ``late`` discards it."""
    assert rig.handset is not None
    handset = rig.handset

    async def step(msisdn: str, text: str) -> str:
        phone = handset(msisdn)
        await phone.send(text)
        while True:
            message = await phone.receive(timeout)
            if not message.text.startswith("【"):  # notices (opened, deposit) are not replies
                return message.text

    async def late(msisdn: str, quiet: float) -> list[str]:
        phone, texts = handset(msisdn), list[str]()
        while True:
            try:
                message = await phone.receive(quiet)
            except TimeoutError:
                return texts
            if not message.text.startswith("【"):
                texts.append(message.text)

    return Line(step, late)


def smpp_settings(settings: Settings, window: int | None = None) -> Settings:
    """``settings`` with the SMSC simulator on a free port, one bind following it (a fresh
    password) and a fresh token for its handset API."""
    query = "source_addr=10658" + (f"&window={window}" if window else "")
    return settings.replace("smpp", simulator=True, simulator_host="127.0.0.1", simulator_port=0,
                            simulator_token=(new_token(),),
                            binds=(f"smpp://smsmenu:{new_smpp_password()}@127.0.0.1:0?{query}",))


def smgp_settings(settings: Settings, window: int | None = None) -> Settings:
    """``settings`` with the ISMG simulator on a free port, one SMGP link following it (a fresh
    secret), a fresh token for its handset API, and no SMPP."""
    query = "sp=10658&mode=2" + (f"&window={window}" if window else "")
    return (settings.replace("smpp", binds=(), simulator=False)
            .replace("smgp", simulator=True, simulator_host="127.0.0.1", simulator_port=0,
                     simulator_token=(new_token(),),
                     links=(f"smgp://smsmenu:{new_smpp_password()}@127.0.0.1:0?{query}",)))


def api_settings(settings: Settings) -> Settings:
    """``settings`` with an ``[api] token`` (a fresh one unless it has some)."""
    return settings.replace("api", token=settings.api.token or (new_token(),))


Serve = Callable[..., AbstractAsyncContextManager[Any]]
"""The server's ``running(settings, smpp=, demo=)`` (``smsmenu.server.main``), given by the caller:
the simulators import no server code."""


@asynccontextmanager
async def own_server(running: Serve, settings: Settings, via: str, *, window: int | None = None,
                     demo: bool = False) -> AsyncIterator[Rig]:
    """``running()`` on ``settings`` (with an API token and the billing simulator); for ``smpp``
    with its SMSC simulator and our ESME bound. ``demo``: the demo agent, the simulated bank."""
    smpp, smgp = via in ("smpp", "smsc"), via == "smgp"
    async with AsyncExitStack() as stack:
        settings = api_settings(settings)
        if settings.billing.mode != "sim":  # its own BOSS: the billing simulator, a free port
            settings = settings.replace("billing", mode="sim", url="http://127.0.0.1:0")
        if smpp:
            settings = smpp_settings(settings, window)
        if smgp:
            settings = smgp_settings(settings, window)
        run = await stack.enter_async_context(running(settings, smpp=smpp or smgp, demo=demo))
        control = settings.smpp.simulator_token if smpp else settings.smgp.simulator_token
        rig = Rig(run.ledger, run.http_url, billing_url=run.billing_url,
                  billing=run.billing if isinstance(run.billing, BillingSimulator) else None,
                  api_token=settings.api.token[0], control_token=control[0] if control else "")
        rig.http = await stack.enter_async_context(aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0)))
        if smpp:
            if run.smpp is None or run.smpp.smsc is None:
                raise RuntimeError("the server did not start its SMSC simulator")
            await asyncio.wait_for(run.smpp.gateway.wait_bound(), 10.0)
            rig.smsc, rig.handset = run.smpp.smsc, run.smpp.smsc.handset
            rig.control_url = f"{run.http_url}/smsc"
        if smgp:
            if run.smgp is None or run.smgp.ismg is None:
                raise RuntimeError("the server did not start its ISMG simulator")
            await asyncio.wait_for(run.smgp.gateway.wait_bound(), 10.0)
            rig.smsc, rig.handset = run.smgp.ismg, run.smgp.ismg.handset
            rig.control_url = f"{run.http_url}/ismg"
        yield rig


@asynccontextmanager
async def remote_server(settings: Settings, server: str, *, control_url: str | None = None,
                        wait: float = WAIT_S, api_token: str = "",
                        control_token: str = "") -> AsyncIterator[Rig]:
    """A running server at ``server``, once its ``/healthz`` answers 200 (``NotReady`` after
    ``wait`` s); its database (``settings``) is opened to fund and verify. The tokens: for
    ``/api/sms`` and for the SMSC handset API."""
    clock = SystemClock(settings.ledger.timezone)
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0)))
        await wait_healthy(server, wait=wait, http=http)
        ledger = await stack.enter_async_context(
            await Ledger.open(settings, BillingSimulator(clock=clock), clock,
                              notifier=SmsNotices(), secret=load_secret(
                settings.ledger.secret_file, os.environ.get("SMSMENU_SECRET"))))
        control = control_url or f"{server.rstrip('/')}/smsc"
        phones: dict[str, RemoteHandset] = {}

        def handset(msisdn: str) -> RemoteHandset:
            return phones.setdefault(msisdn, RemoteHandset(control, msisdn, http=http,
                                                           token=control_token))

        yield Rig(ledger, server.rstrip("/"), handset=handset, control_url=control,
                  billing_url=settings.billing.url, http=http, api_token=api_token,
                  control_token=control_token)
