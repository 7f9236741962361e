"""Web fixtures: the server's app with the portal mounted, a form-aware client, an operator.

Hypothesis profiles: ``HYPOTHESIS_PROFILE=chaos`` runs the fuzz tests (test_web_fuzz.py) with
2,000 examples a route instead of 200.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import settings as hypothesis_settings
from web_support import OPERATOR_PASSWORD, Browser

from ledger import Ledger
from simulator.bank import bank_app
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.server.listeners import read_deadline
from smsmenu.states.notices import SmsNotices
from smsmenu.web import create_operator, security, setup_web
from smsmenu.web import operators as web_operators
from smsmenu.web.state import WEB, Web

hypothesis_settings.register_profile("chaos", max_examples=2000)
if os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operator password hashing at a test cost (the real cost is checked in test_web_units)."""
    monkeypatch.setitem(web_operators.SCRYPT, "n", 2 ** 8)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with plain-HTTP cookies: the test server is http://127.0.0.1."""
    return settings.replace("web", secure_cookies=False)


@pytest.fixture
async def ledger(settings: Settings, billing: BillingSimulator,
                 clock: ManualClock) -> AsyncIterator[Ledger]:
    """The root ledger with the portal's tables too."""
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as opened:
        yield opened


@pytest.fixture
def apps(ledger: Ledger, settings: Settings,
         clock: ManualClock) -> tuple[web.Application, web.Application]:
    """The web listener's app as the server builds it, protected, with the portal (the second)
    and the simulated bank mounted."""
    app = web.Application(middlewares=[read_deadline(settings.web.read_timeout_s)],
                          client_max_size=64 * 1024)
    portal = setup_web(app, ledger, settings, clock, simulated_bank=bank_app)
    security.protect(app)
    return app, portal


@pytest.fixture
def web_state(apps: tuple[web.Application, web.Application]) -> Web:
    """The portal's shared state (keys, public URL, cookie flags)."""
    return apps[1][WEB]


@pytest.fixture
async def server(apps: tuple[web.Application, web.Application],
                 web_state: Web) -> AsyncIterator[TestServer]:
    """The apps served on 127.0.0.1; the portal's public URL is that address."""
    served = TestServer(apps[0], host="127.0.0.1")
    await served.start_server()
    web_state.public_url = str(served.make_url("")).rstrip("/")  # as [web] public_url would
    try:
        yield served
    finally:
        await served.close()


@pytest.fixture
async def browser(server: TestServer) -> AsyncIterator[Browser]:
    async with TestClient(server) as client:
        yield Browser(client)


@pytest.fixture
async def other(server: TestServer) -> AsyncIterator[Browser]:
    """A second, independent browser (another agent, another operator)."""
    async with TestClient(server) as client:
        yield Browser(client)


@pytest.fixture
async def operators(ledger: Ledger) -> dict[str, str]:
    """One operator per role, named after it, all with OPERATOR_PASSWORD."""
    for role in ("clerk", "hotline", "supervisor"):
        await create_operator(ledger, role, OPERATOR_PASSWORD, role)
    return {"clerk": "clerk", "hotline": "hotline", "supervisor": "supervisor"}
