"""``server.running``: the whole server starts on free ports, serves, seeds once, stops, recovers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from ledger.queries import scalar
from simulator.billing import BillingSimulator
from smsmenu.clock import ManualClock
from smsmenu.server import DEMO, Running, running
from smsmenu.settings import Settings
from smsmenu.states import steps
from smsmenu.types import Channel, Inbound

AGENT, CUSTOMER = "18912345678", "18012345678"


@asynccontextmanager
async def serve(settings: Settings, clock: ManualClock, billing: BillingSimulator,
                demo: bool = False) -> AsyncIterator[tuple[Running, aiohttp.ClientSession]]:
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with running(settings, clock=clock, billing=billing, demo=demo) as run, \
            aiohttp.ClientSession(base_url=run.http_url) as http:
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
        assert (await run.ledger.agent(DEMO["msisdn"]))["balance_fen"] == 100_000
        async with http.post("/api/sms", json={"from": DEMO["msisdn"], "text": "YE*135790"}) as resp:
            assert (await resp.json())["replies"][0]["text"] == "充值账户余额1000.00元，可用1000.00元。"
    assert capsys.readouterr().out.count(f"demo agent: {DEMO['msisdn']}") == 1
    async with serve(settings, clock, billing, demo=True) as (run, _):
        assert await run.ledger.read(scalar("SELECT COUNT(*) FROM agents")) == 1
        assert (await run.ledger.agent(DEMO["msisdn"]))["balance_fen"] == 100_000
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
        assert (await run.ledger.agent(AGENT))["balance_fen"] == 45_100
        async with http.post("/api/sms", json={"from": AGENT, "text": "1", "id": "a"}) as resp:
            text = (await resp.json())["replies"][0]["text"]
        assert text.startswith(f"单号{recharge_id}的充值已有结果，已短信通知。\n充值\n1固定电话")
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
                f"单号{recharge_id}的充值结果待确认，将以短信通知。\n充值\n1固定电话\n2C网手机\n"
                "3小灵通\n4宽带\n0返回")}]
    billing.down = False
    async with serve(settings, clock, billing) as (run, _):
        assert (await run.ledger.get_recharge(recharge_id)).status == "succeeded"
        assert (await run.ledger.agent(AGENT))["balance_fen"] == 45_100
