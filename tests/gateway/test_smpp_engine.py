"""Recharge dialogs over real SMPP into the real engine and ledger: lost acks, dropped links, receipts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest

from ledger import Ledger
from ledger.store.queries import scalar
from simulator.billing import BillingSimulator
from simulator.smsc import MoTicket, SmscSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.types import Inbound, InboundHandler, Reply, TargetKind
from smsmenu.gateway.base import FunctionHandler
from smsmenu.gateway.smpp import SmppGateway
from smsmenu.gateway.smpp_codec import ROK, Pdu, Sequence, encode, make, parse
from smsmenu.gateway.smpp_config import SmppBind
from smsmenu.gateway.smpp_receive import MoReceiver
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.server.dispatch import Dispatcher
from smsmenu.server.wiring import ReceiptBook
from smsmenu.states.engine import Engine
from tests.conftest import AGENT, TX

CUSTOMER = "18900001111"
CHARGE = 9_800
"""100 yuan at the default 2% commission."""
FAST: dict[str, Any] = dict(
    enquire_interval=5.0, response_timeout=1.0, connect_timeout=1.0, backoff_initial=0.02,
    backoff_max=0.1, source_addr="10658", registered_delivery=0,
)  # fmt: skip
SCREENS = [
    ("充值成功", ""), ("请输入交易密码", TX), ("请核对", "1"), ("请输入金额", "100"),
    ("请输入C网手机号码", CUSTOMER), ("请输入固定电话号码", "0"), ("1固定电话", "2"),
    ("2异常处理", "1"),
]  # fmt: skip
"""What an agent presses on each screen to recharge CUSTOMER 100 yuan, whatever came before."""
Hook = Callable[[InboundHandler], InboundHandler]


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator({"esme": "secret"}, redeliver_after=0.2, retry_delay=0.01) as sim:
        yield sim


@asynccontextmanager
async def wired(ledger: Ledger, smsc: SmscSimulator, clock: ManualClock, *, hook: Hook | None = None,
                interval: float = 0.5, **bind: Any) -> AsyncIterator[SmppGateway]:  # fmt: skip
    """Engine, outbox drain and our ESME bound to ``smsc``, joined as the server joins them."""
    dispatcher = Dispatcher(ledger, [], interval=interval, retry_after=0.0)
    engine = Engine(ledger, on_queued=dispatcher.send_now)
    receipts = ReceiptBook(ledger, retry_after=0.1)
    handler: InboundHandler = engine if hook is None else hook(engine)
    gateway = SmppGateway(SmppBind("esme", "secret", "127.0.0.1", smsc.port, **{**FAST, **bind}),
                          handler, on_receipt=receipts, clock=clock)  # fmt: skip
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


async def settled(ledger: Ledger, limit: float = 5.0) -> None:
    """Every SMS the ledger queued is on its handset (the outbox holds none queued)."""
    query = scalar("SELECT COUNT(*) FROM outbox WHERE status = 'queued'")
    for _ in range(int(limit / 0.01)):
        if not await ledger.read(query):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox did not drain")


def next_key(screen: str) -> str:
    for marker, key in SCREENS:
        if marker in screen:
            return key
    raise AssertionError(f"unexpected screen {screen!r}")


async def walk(smsc: SmscSimulator, ledger: Ledger,
               before: Callable[[int], Awaitable[None]] | None = None) -> list[MoTicket]:  # fmt: skip
    """Press keys as the screens ask until the receipt came; the tickets of what was sent."""
    await settled(ledger)
    phone, tickets = smsc.handset(AGENT), []
    for _ in range(20):
        texts = [m.text for m in phone.inbox if not m.text.startswith("【")]
        if any("充值成功" in t for t in texts):
            return tickets
        key = next_key(texts[-1] if texts else "2异常处理")
        if before is not None:
            await before(len(tickets))
        tickets.append(await phone.send(key))
        await asyncio.wait_for(tickets[-1].delivered(), 5)
        await settled(ledger)
    raise AssertionError("the dialog did not end")


async def charged_once(ledger: Ledger, billing: BillingSimulator) -> None:
    """One recharge, paid once on both sides, and every ledger invariant holds."""
    records = await ledger.records(AGENT)
    assert [(r.status, r.amount, r.target) for r in records] == [("succeeded", 10_000, CUSTOMER)]
    assert (await ledger.agent(AGENT)).balance_fen == 50_000 - CHARGE
    assert await billing.balance(TargetKind.MOBILE, CUSTOMER) == 10_000
    assert not any((await ledger.verify()).values())


@pytest.mark.parametrize("lost", range(6))
async def test_lost_ack_of_any_dialog_message_never_charges_twice(
    lost: int, ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
    agent: dict[str, object], smsc: SmscSimulator,
) -> None:  # fmt: skip
    """The deliver_sm_resp of message N is lost and it is redelivered: one charge, one receipt."""

    async def lose(n: int) -> None:
        if n == lost:
            smsc.faults.lose_mo_acks = 1

    async with wired(ledger, smsc, clock):
        tickets = await walk(smsc, ledger, lose)
    assert tickets[lost].attempts == 2 and smsc.faults.lose_mo_acks == 0
    assert sum(t.attempts for t in tickets) == len(tickets) + 1
    await charged_once(ledger, billing)
    receipts = [m.text for m in smsc.handset(AGENT).inbox if "充值成功" in m.text]
    assert len(receipts) == 1 and "余额402.00元" in receipts[0]
    notices = [m.text for m in smsc.handset(CUSTOMER).inbox]
    assert len(notices) == 1 and f"手机{CUSTOMER}" in notices[0] and "成功充值100.00元" in notices[0]


async def test_links_killed_mid_dialog_lose_no_step_and_charge_once(
    ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
    agent: dict[str, object], smsc: SmscSimulator,
) -> None:  # fmt: skip
    """The SMSC drops the link between steps and right after the number and the money step."""
    drops = {CUSTOMER: 1, TX: 1}

    def hook(engine: InboundHandler) -> InboundHandler:
        async def handler(msg: Inbound) -> list[Reply]:
            answer = await engine(msg)  # committed; the link dies before the ack leaves
            if drops.get(msg.text):
                drops[msg.text] -= 1
                await smsc.drop_links()
            return answer.replies

        return FunctionHandler(handler)

    async def between(n: int) -> None:
        if n == 1:
            await smsc.drop_links()

    async with wired(ledger, smsc, clock, hook=hook, interval=0.05) as gateway:
        tickets = await walk(smsc, ledger, between)
        assert gateway.links[0].binds >= 4
    assert drops == {CUSTOMER: 0, TX: 0}
    assert sum(t.redelivered for t in tickets) >= 2
    await charged_once(ledger, billing)
    assert any(f"手机{CUSTOMER}" in m.text for m in smsc.handset(CUSTOMER).inbox)


async def test_replies_leave_within_milliseconds_and_receipts_land_in_the_outbox(
    ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
    agent: dict[str, object], smsc: SmscSimulator,
) -> None:  # fmt: skip
    """Each step wakes the drain (no 0.5 s poll); every SMS sent gets its DELIVRD receipt."""
    phone = smsc.handset(AGENT)
    async with wired(ledger, smsc, clock, registered_delivery=1):
        await settled(ledger)
        for _notice in list(phone.inbox):  # opening and deposit notices
            await phone.receive()
        times = []
        for key in ["1", "2", CUSTOMER, "100", "1", TX]:
            began = time.perf_counter()
            await phone.send(key)
            await phone.receive(timeout=2)
            times.append(time.perf_counter() - began)
        query = scalar("SELECT COUNT(*) FROM outbox WHERE receipt IS NOT 'DELIVRD'")
        for _ in range(300):
            if not await ledger.read(query):
                break
            await asyncio.sleep(0.01)
        assert not await ledger.read(query)
    assert "充值成功" in phone.inbox[-1].text
    assert sorted(times)[len(times) // 2] < 0.1, times
    await charged_once(ledger, billing)


async def test_agent_sending_with_a_country_code_reaches_their_dialog(
    ledger: Ledger, clock: ManualClock, agent: dict[str, object], smsc: SmscSimulator,
) -> None:  # fmt: skip
    """MO from +86 and 86 before the agent's number walk the agent's own dialog over real SMPP."""
    phone = smsc.handset(AGENT)
    async with wired(ledger, smsc, clock):
        await settled(ledger)
        before = len(phone.inbox)
        for sender, key in [(f"+86{AGENT}", "1"), (f"86{AGENT}", "2")]:
            ticket = await smsc.handset(sender).send(key)
            await asyncio.wait_for(ticket.delivered(), 5)
            await settled(ledger)
    replies = [m.text for m in phone.inbox[before:]]
    assert len(replies) == 2
    assert "1固定电话" in replies[0] and "请输入C网手机号码" in replies[1]
    assert smsc.handset(f"+86{AGENT}").inbox == smsc.handset(f"86{AGENT}").inbox == []


async def test_receipt_class_deliver_sm_never_gets_a_menu_reply(
    ledger: Ledger, clock: ManualClock, agent: dict[str, object], smsc: SmscSimulator,
) -> None:  # fmt: skip
    """Receipts, SME acks and notifications from the agent's number change and answer nothing."""
    phone = smsc.handset(AGENT)
    async with wired(ledger, smsc, clock):
        await settled(ledger)
        before = len(phone.inbox)
        for esm_class in (0x04, 0x08, 0x10, 0x20):
            fields = {"source_addr": AGENT, "destination_addr": "10658", "esm_class": esm_class,
                      "short_message": b"1", "data_coding": 0}  # fmt: skip
            await asyncio.wait_for(phone.queue_receipt(fields, {}).delivered(), 5)
        ticket = await phone.send("1")  # the first key that reaches the menu
        await asyncio.wait_for(ticket.delivered(), 5)
        await settled(ledger)
    replies = [m.text for m in phone.inbox[before:]]
    assert len(replies) == 1 and "1固定电话" in replies[0]



class Answers:
    """The receiver's deliver_sm_resp, recorded in place of a link."""

    name = "pipelined"

    def __init__(self) -> None:
        self.statuses: list[int] = []

    def respond(self, pdu: Pdu, status: int = ROK, **fields: Any) -> None:
        self.statuses.append(status)


async def test_a_whole_dialog_pipelined_is_stepped_in_arrival_order(
    ledger: Ledger, billing: BillingSimulator, clock: ManualClock, agent: dict[str, object],
) -> None:  # fmt: skip
    """Six deliver_sm of one agent in flight at once, as an SMSC with a window may send them:
    the receiver holds them all (the bound is 8) and the engine's turn alone orders them, in
    arrival order, so the recharge dialog goes through, once."""
    replies: list[Reply] = []
    engine = Engine(ledger, on_queued=replies.extend)
    receiver, answers = MoReceiver(engine, clock=clock), Answers()
    keys = ["1", "2", CUSTOMER, "100", "1", TX]
    pdus = [parse(encode(make("deliver_sm", Sequence(), source_addr=AGENT, destination_addr="10658",
                              short_message=key.encode()))) for key in keys]  # fmt: skip
    await asyncio.gather(*(receiver(cast(SmppSession, answers), pdu) for pdu in pdus))
    receiver.close()
    assert answers.statuses == [ROK] * len(keys)
    assert "充值成功" in [r.text for r in replies if r.to == AGENT][-1]
    await charged_once(ledger, billing)
