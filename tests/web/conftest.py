"""Web fixtures: the server's app with the portal mounted, a form-aware client, an operator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from web_support import OPERATOR_PASSWORD, Browser

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.app import create_app
from smsmenu.clock import ManualClock
from smsmenu.settings import Settings
from smsmenu.states.engine import DDL as ENGINE_DDL
from smsmenu.web import WEB_DDL, create_operator, setup_web
from smsmenu.web import operators as web_operators


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operator password hashing at a test cost (the real cost is checked in test_web_units)."""
    monkeypatch.setitem(web_operators.SCRYPT, "n", 2 ** 8)


@pytest.fixture
async def ledger(settings: Settings, billing: BillingSimulator,
                 clock: ManualClock) -> AsyncIterator[Ledger]:
    """The root ledger with the portal's tables too."""
    async with await Ledger.open(settings, billing, clock, secret=b"k" * 32,
                                 extra_ddl=ENGINE_DDL + WEB_DDL) as opened:
        yield opened


@pytest.fixture
async def server(ledger: Ledger, settings: Settings, billing: BillingSimulator,
                 clock: ManualClock) -> AsyncIterator[TestServer]:
    """The server's app (create_app) with the portal and the simulated bank mounted."""
    app = create_app(settings, ledger, billing, [], clock)
    setup_web(app, ledger, settings, clock)
    served = TestServer(app, host="127.0.0.1")
    await served.start_server()
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
