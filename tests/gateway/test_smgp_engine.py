"""Recharge dialogs over real SMGP into the real engine and ledger: lost DeliverResp, dropped
links, status reports on the outbox rows (issue 14)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from ledger import Ledger
from ledger.store.queries import scalar
from simulator.billing import BillingSimulator
from simulator.ismg import IsmgSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.types import Inbound, InboundHandler, Reply
from smsmenu.gateway.base import FunctionHandler
from smsmenu.gateway.smgp import SmgpGateway
from smsmenu.gateway.smgp_config import SmgpLinkConfig
from smsmenu.server.dispatch import Dispatcher
from smsmenu.server.wiring import ReceiptBook
from smsmenu.states.engine import Engine
from tests.conftest import AGENT, TX
from tests.gateway.test_smpp_engine import CUSTOMER, Hook, charged_once, walk

FAST: dict[str, Any] = dict(response_timeout=1.0, connect_timeout=1.0, backoff_initial=0.02,
                            backoff_max=0.1, sp="10658", need_report=0)  # fmt: skip


@pytest.fixture
async def ismg() -> AsyncIterator[IsmgSimulator]:
    async with IsmgSimulator({"SP01": "secret"}, redeliver_after=0.2, retry_delay=0.01,
                             active_test_interval=0) as sim:  # fmt: skip
        yield sim


@asynccontextmanager
async def wired(ledger: Ledger, ismg: IsmgSimulator, clock: ManualClock, *,
                hook: Hook | None = None, **link: Any) -> AsyncIterator[SmgpGateway]:  # fmt: skip
    """Engine, outbox drain and our SMGP link to ``ismg``, joined as the server joins them."""
    dispatcher = Dispatcher(ledger, [], interval=0.05, retry_after=0.0)
    engine = Engine(ledger, on_queued=dispatcher.send_now)
    receipts = ReceiptBook(ledger, retry_after=0.1)
    handler: InboundHandler = engine if hook is None else hook(engine)
    config = SmgpLinkConfig("SP01", "secret", "127.0.0.1", ismg.port, **{**FAST, **link})
    gateway = SmgpGateway(config, handler, on_receipt=receipts, clock=clock)
    dispatcher.gateways.append(gateway)
    gateway.start()
    drain = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.wait_for(gateway.wait_bound(), 3)
        yield gateway
    finally:
        await gateway.aclose()
        drain.cancel()
        await asyncio.gather(drain, return_exceptions=True)
        await dispatcher.aclose()
        await receipts.aclose()


@pytest.mark.parametrize("lost", [0, 3, 5])
async def test_a_lost_deliver_resp_redelivers_and_never_charges_twice(
    lost: int, ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
    agent: dict[str, object], ismg: IsmgSimulator,
) -> None:  # fmt: skip
    """The DeliverResp of message N (5: the password, the money step) is lost; the ISMG delivers
    the same MsgID again: one charge, one receipt SMS to the agent and one to the customer."""

    async def lose(n: int) -> None:
        if n == lost:
            ismg.faults.lose_mo_acks = 1

    async with wired(ledger, ismg, clock):
        tickets = await walk(ismg, ledger, lose)  # type: ignore[arg-type]
    assert tickets[lost].attempts == 2 and ismg.faults.lose_mo_acks == 0
    assert sum(t.attempts for t in tickets) == len(tickets) + 1
    await charged_once(ledger, billing)
    receipts = [m.text for m in ismg.handset(AGENT).inbox if "充值成功" in m.text]
    assert len(receipts) == 1 and "余额402.00元" in receipts[0]
    notices = [m.text for m in ismg.handset(CUSTOMER).inbox]
    assert len(notices) == 1 and "成功充值100.00元" in notices[0]


async def test_links_dropped_mid_dialog_lose_no_step_and_charge_once(
    ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
    agent: dict[str, object], ismg: IsmgSimulator,
) -> None:  # fmt: skip
    """The ISMG drops the link after the number and the money step committed but before
    their DeliverResp left, and once between steps: logged in again, nothing applied twice."""
    drops = {CUSTOMER: 1, TX: 1}

    def hook(engine: InboundHandler) -> InboundHandler:
        async def handler(msg: Inbound) -> list[Reply]:
            answer = await engine(msg)
            if drops.get(msg.text):
                drops[msg.text] -= 1
                await ismg.drop_links()
            return answer.replies

        return FunctionHandler(handler)

    async def between(n: int) -> None:
        if n == 1:
            await ismg.drop_links()

    async with wired(ledger, ismg, clock, hook=hook) as gateway:
        tickets = await walk(ismg, ledger, between)  # type: ignore[arg-type]
        assert gateway.links[0].logins >= 4
    assert drops == {CUSTOMER: 0, TX: 0}
    assert sum(t.redelivered for t in tickets) >= 2
    await charged_once(ledger, billing)


async def test_status_reports_land_on_the_outbox_rows(
    ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
    agent: dict[str, object], ismg: IsmgSimulator,
) -> None:  # fmt: skip
    """NeedReport 1: every SMS sent (menus, the agent's and the customer's receipts) gets the
    ISMG's DELIVRD stored on its outbox row, found by the Submit's MsgID."""
    async with wired(ledger, ismg, clock, need_report=1) as gateway:
        await walk(ismg, ledger)  # type: ignore[arg-type]
        query = scalar("SELECT COUNT(*) FROM outbox WHERE receipt IS NOT 'DELIVRD'")
        for _ in range(300):
            if not await ledger.read(query):
                break
            await asyncio.sleep(0.01)
        assert not await ledger.read(query)
        assert gateway.receiver.reports >= 8
    rows = await ledger.read(scalar("SELECT COUNT(*) FROM outbox WHERE gateway = 'smgp' AND "
                                    "length(message_id) = 20"))  # fmt: skip
    assert rows >= 8
    await charged_once(ledger, billing)
