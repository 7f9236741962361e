"""``server.running``: the whole server starts on free ports, serves, seeds once, stops, recovers;
two listeners (transports and portal), each with bounded patience."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from ledger.store.queries import scalar
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.refno import quote
from smsmenu.core.settings import Settings
from smsmenu.core.types import Channel, Inbound
from smsmenu.server.main import DEMO, Running, running
from smsmenu.states import steps

pytestmark = pytest.mark.both_engines

AGENT, CUSTOMER = "18912345678", "18012345678"
TOKEN = "test-api-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@asynccontextmanager
async def serve(settings: Settings, clock: ManualClock, billing: BillingSimulator,
                demo: bool = False) -> AsyncIterator[tuple[Running, aiohttp.ClientSession]]:
    """The server on free ports with an ``[api] token``; a client that sends it."""
    settings = (settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
                .replace("api", token=(TOKEN,)))
    async with running(settings, clock=clock, billing=billing, demo=demo) as run, \
            aiohttp.ClientSession(base_url=run.http_url, headers=BEARER) as http:
        yield run, http


async def test_it_starts_serves_healthz_and_stops_cleanly(
        settings: Settings, clock: ManualClock, billing: BillingSimulator) -> None:
    """Free ports, /healthz 200 with the ledger up; after the exit nothing listens or runs."""
    async with serve(settings, clock, billing) as (run, http):
        assert run.http_url.startswith("http://127.0.0.1:") and not run.http_url.endswith(":0")
        async with http.get("/healthz") as resp:
            assert resp.status == 200
            assert await resp.json() == {"ok": True, "ready": True, "ledger": True,
                                         "storage": "ok", "recovered": True, "gateways": {}}
        url, tasks = run.http_url, list(run.tasks)
        assert tasks and not any(t.done() for t in tasks)
    assert all(t.done() for t in tasks)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"{url}/healthz")


async def test_the_demo_agent_is_created_once(settings: Settings, clock: ManualClock,
                                              billing: BillingSimulator,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """On an empty database the demo agent (1000 yuan) is made and announced; never again."""
    async with serve(settings, clock, billing, demo=True) as (run, http):
        assert (await run.ledger.agent(DEMO["msisdn"])).balance_fen == 100_000
        async with http.post("/api/sms", json={"from": DEMO["msisdn"], "text": "YE*135790"}) as resp:
            assert (await resp.json())["replies"][0]["text"] == "充值账户余额1000.00元，可用1000.00元。"
    assert capsys.readouterr().out.count(f"demo agent: {DEMO['msisdn']}") == 1
    async with serve(settings, clock, billing, demo=True) as (run, _):
        assert await run.ledger.read(scalar("SELECT COUNT(*) FROM agents")) == 1
        assert (await run.ledger.agent(DEMO["msisdn"])).balance_fen == 100_000
    assert "demo agent" not in capsys.readouterr().out


async def leave_pending(run: Running) -> int:
    """An agent at the password step whose step committed but whose billing call never ran."""
    await run.ledger.open_agent(msisdn=AGENT, name="小王", tx_password="123456",
                                mgmt_password="654321")
    await run.ledger.deposit(key="seed", msisdn=AGENT, amount_fen=50_000, channel="counter")
    for n, text in enumerate(["1", "2", CUSTOMER, "50", "1"]):
        await run.engine.handle(Inbound(AGENT, text, Channel.HTTP, run.ledger.now(), f"k{n}"))
    msg = Inbound(AGENT, "123456", Channel.HTTP, run.ledger.now(), "k-pw")
    out = await run.ledger.op(steps.step, machine=run.engine.machine, msg=msg,
                              idle=run.engine.idle_timeout, direct="all")
    assert out.pending is not None
    return out.pending.id


async def test_a_recharge_pending_at_stop_is_resolved_at_the_next_start(
        settings: Settings, clock: ManualClock, billing: BillingSimulator) -> None:
    """Stopped between reserving and billing: the next start pays it once and sends the
    receipt by SMS; the agent's next message runs (it is not swallowed)."""
    async with serve(settings, clock, billing) as (run, _):
        recharge_id = await leave_pending(run)
        assert (await run.ledger.get_recharge(recharge_id)).status == "pending"
    async with serve(settings, clock, billing) as (run, http):
        assert (await run.ledger.get_recharge(recharge_id)).status == "succeeded"
        assert (await run.ledger.agent(AGENT)).balance_fen == 45_100
        async with http.post("/api/sms", json={"from": AGENT, "text": "1", "id": "a"}) as resp:
            text = (await resp.json())["replies"][0]["text"]
        assert text.startswith(f"单号{quote(recharge_id)}的充值已有结果，已短信通知。\n充值\n1固定电话")
        receipts = await run.ledger.read(scalar(
            "SELECT text FROM outbox WHERE kind = 'receipt' AND to_msisdn = ?", AGENT))
        assert receipts.startswith("充值成功 手机18012345678 50.00元 佣金1.00元 余额451.00元")
        breaches = await run.ledger.verify()
        assert not any(breaches.values()), breaches
    customer = billing.account("mobile", CUSTOMER)
    assert customer is not None and customer.balance_fen == 5_000


async def test_a_pending_recharge_waits_while_billing_is_down(
        settings: Settings, clock: ManualClock, billing: BillingSimulator) -> None:
    """Billing unreachable at start: kept pending; the agent's next message runs, with a line
    saying the result follows by SMS; paid at a later start."""
    async with serve(settings, clock, billing) as (run, _):
        recharge_id = await leave_pending(run)
    billing.down = True
    async with serve(settings, clock, billing) as (run, http):
        assert (await run.ledger.get_recharge(recharge_id)).status == "pending"
        async with http.get("/healthz") as resp:
            assert resp.status == 200
        async with http.post("/api/sms", json={"from": AGENT, "text": "1", "id": "b"}) as resp:
            assert (await resp.json())["replies"] == [{"to": AGENT, "text": (
                f"单号{quote(recharge_id)}的充值结果待确认，将以短信通知。\n充值\n1固定电话\n2C网手机\n"
                "3小灵通\n4宽带\n0返回")}]
    billing.down = False
    async with serve(settings, clock, billing) as (run, _):
        assert (await run.ledger.get_recharge(recharge_id)).status == "succeeded"
        assert (await run.ledger.agent(AGENT)).balance_fen == 45_100


async def status(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> int:
    async with http.request(method, url, allow_redirects=False, **kwargs) as resp:
        return resp.status


async def test_the_portal_and_the_transports_listen_apart(
        settings: Settings, clock: ManualClock, billing: BillingSimulator) -> None:
    """The portal only on [web], the transports, /healthz and /metrics only on [http]."""
    async with serve(settings, clock, billing) as (run, http):
        assert run.web_url.startswith("http://127.0.0.1:") and run.web_url != run.http_url
        web, api = run.web_url, run.http_url
        assert await status(http, "GET", f"{web}/web/login") == 200
        assert await status(http, "GET", f"{web}/") == 303
        assert await status(http, "GET", f"{api}/healthz") == 200
        assert await status(http, "GET", f"{api}/metrics") == 200
        for url in (f"{api}/web/login", f"{api}/", f"{web}/healthz", f"{web}/metrics"):
            assert await status(http, "GET", url) == 404, url
        assert await status(http, "POST", f"{web}/api/sms", json={}) == 404


@pytest.mark.parametrize(("demo", "bank", "expected"), [
    pytest.param(False, "", {"/bank/pay": 404, "/web/topup": 404}, id="production-no-bank"),
    pytest.param(False, "https://bank.example/gw", {"/bank/pay": 404, "/web/topup": 303},
                 id="production-real-bank"),
    pytest.param(True, "", {"/bank/pay": 403, "/web/topup": 303}, id="demo-simulated-bank"),
])
async def test_online_top_up_needs_a_bank(settings: Settings, clock: ManualClock,
                                          billing: BillingSimulator, demo: bool, bank: str,
                                          expected: dict[str, int]) -> None:
    """The simulated bank only in demo mode; top-up pages only with a bank (303: log in)."""
    async with serve(settings.replace("bank", url=bank), clock, billing, demo=demo) as (run, http):
        got = {path: await status(http, "GET", f"{run.web_url}{path}") for path in expected}
    assert got == expected


@pytest.mark.parametrize(("headers", "code"), [
    pytest.param({}, 401, id="none"),
    pytest.param({"Authorization": "Bearer nope-nope-nope-nope"}, 401, id="wrong"),
    pytest.param({"Authorization": "Basic bWV0cmljcw=="}, 401, id="not-bearer"),
    pytest.param({"Authorization": "Bearer metrics-token-0123456789"}, 200, id="right"),
])
async def test_metrics_with_a_token_want_it(settings: Settings, clock: ManualClock,
                                            billing: BillingSimulator,
                                            headers: dict[str, str], code: int) -> None:
    """``[metrics] token``: /metrics answers 401 without it; /healthz stays open."""
    settings = settings.replace("metrics", token=("metrics-token-0123456789",))
    async with serve(settings, clock, billing) as (run, _):
        async with aiohttp.ClientSession() as bare:
            assert await status(bare, "GET", f"{run.http_url}/metrics", headers=headers) == code
            assert await status(bare, "GET", f"{run.http_url}/healthz") == 200


async def closed_without_answer(url: str, data: bytes) -> bytes:
    """Send ``data`` on a raw connection and read until the server closes it."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(data)
        await writer.drain()
        return await reader.read()  # b"" or an answer, then EOF: the server closed it
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("listener", ["http", "web"])
@pytest.mark.parametrize(("sent", "answer"), [
    pytest.param(b"", b"", id="idle-connection"),
    pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"", id="headers-never-finished"),
    pytest.param(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"from\"", b"HTTP/1.1 408 ", id="body-too-slow"),
])
async def test_idle_and_slow_connections_are_closed(
        settings: Settings, clock: ManualClock, billing: BillingSimulator, listener: str,
        sent: bytes, answer: bytes) -> None:
    """[http]/[web] idle_timeout_s and read_timeout_s: the server hangs up (a slow body: 408)."""
    for section in ("http", "web"):
        settings = settings.replace(section, idle_timeout_s=0.2, read_timeout_s=0.2)
    async with serve(settings, clock, billing) as (run, _):
        got = await closed_without_answer(run.http_url if listener == "http" else run.web_url,
                                          sent)
    assert got.startswith(answer) if answer else got == b""


@pytest.mark.parametrize(("listener", "path"), [
    pytest.param("http", "/api/sms", id="transports"),
    pytest.param("web", "/web/login", id="portal"),
])
async def test_a_malformed_content_type_is_a_400(
        settings: Settings, clock: ManualClock, billing: BillingSimulator, listener: str,
        path: str) -> None:
    """A Content-Type aiohttp cannot parse (it raises IndexError) is refused, never a 500."""
    async with serve(settings, clock, billing) as (run, http):
        url = (run.http_url if listener == "http" else run.web_url) + path
        async with http.post(url, data=b"x", headers={"Content-Type": "6>;D#u_n*"}) as resp:
            assert resp.status == 400
            assert "Content-Type" in await resp.text()
