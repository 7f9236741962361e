"""Outbox leases across a crash: this instance's leases end at its next start, others' stay."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.core.types import Reply
from smsmenu.gateway.base import Gateway, SendResult
from smsmenu.server.dispatch import LEASE_S, Dispatcher
from smsmenu.server.main import instance_id, running
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines

AGENT = "18912345678"


class Hanging(Gateway):
    """Takes each message and never answers: the process dies with them on the wire."""

    name = "hanging"

    def __init__(self, expect: int) -> None:
        self.taken: list[int] = []
        self.expect = expect
        self.all_taken = asyncio.Event()

    async def send(self, message: Reply) -> SendResult:
        self.taken.append(message.outbox_id or 0)
        if len(self.taken) >= self.expect:
            self.all_taken.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class Recording(Gateway):
    """Accepts everything and remembers the outbox ids it was handed."""

    name = "recording"

    def __init__(self, expect: int = 0) -> None:
        self.sent: list[int] = []
        self.expect = expect
        self.all_sent = asyncio.Event()

    async def send(self, message: Reply) -> SendResult:
        self.sent.append(message.outbox_id or 0)
        if len(self.sent) >= self.expect:
            self.all_sent.set()
        return SendResult(f"m-{message.outbox_id}")


@asynccontextmanager
async def opened(settings: Settings, billing: BillingSimulator,
                 clock: ManualClock) -> AsyncIterator[Ledger]:
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as ledger:
        yield ledger


async def crash_mid_send(settings: Settings, billing: BillingSimulator,
                         clock: ManualClock, instance: str) -> list[int]:
    """Queue two notices, let ``instance`` claim and start sending them, then die."""
    async with opened(settings, billing, clock) as ledger:
        await ledger.open_agent(msisdn=AGENT, name="小王", tx_password="123456",
                                mgmt_password="654321")
        await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
        gateway = Hanging(expect=2)
        dispatcher = Dispatcher(ledger, [gateway], instance=instance)
        drain = asyncio.create_task(dispatcher.run())
        await gateway.all_taken.wait()
        drain.cancel()
        await asyncio.gather(drain, return_exceptions=True)
        await dispatcher.aclose(grace=0)  # nothing on the wire finishes: as under kill -9
    return sorted(gateway.taken)


@pytest.mark.parametrize("restarted_as, at_once", [
    pytest.param("node-a:8080", True, id="same-instance-resends-at-once"),
    pytest.param("node-b:8080", False, id="other-instance-waits-for-the-lease"),
])
async def test_rows_leased_before_a_crash(settings: Settings, billing: BillingSimulator,
                                          clock: ManualClock, restarted_as: str,
                                          at_once: bool) -> None:
    """Restarted as the crashed instance: its leased rows go out at once; as another: after the lease."""
    leased = await crash_mid_send(settings, billing, clock, "node-a:8080")
    assert len(leased) == 2
    async with opened(settings, billing, clock) as ledger:
        gateway = Recording()
        dispatcher = Dispatcher(ledger, [gateway], instance=restarted_as)
        assert await dispatcher.release() == (2 if at_once else 0)
        await dispatcher.drain_once()
        assert sorted(gateway.sent) == (leased if at_once else [])
        clock.advance(seconds=LEASE_S)
        await dispatcher.drain_once()
        await dispatcher.aclose()
        assert sorted(gateway.sent) == leased  # the lease ended: sent by whoever is running


@pytest.mark.parametrize("instance, sends_at_start", [
    pytest.param("node-a:8080", True, id="same-instance"),
    pytest.param("node-b:8080", False, id="another-instance"),
])
async def test_server_start_releases_only_its_own_leases(
        settings: Settings, billing: BillingSimulator, clock: ManualClock, instance: str,
        sends_at_start: bool) -> None:
    """``running()`` releases the leases of ``[server] instance`` before its outbox drain starts."""
    leased = await crash_mid_send(settings, billing, clock, "node-a:8080")
    settings = (settings.replace("server", instance=instance).replace("http", port=0)
                .replace("billing", url="http://127.0.0.1:0"))
    gateway = Recording(expect=len(leased))
    async with running(settings, clock=clock, billing=billing, gateways=[gateway]) as run:
        assert run.dispatcher.instance == instance
        if sends_at_start:
            await gateway.all_sent.wait()
        else:
            assert await run.dispatcher.drain_once() == 0  # still leased to node-a
        assert sorted(gateway.sent) == (leased if sends_at_start else [])


@pytest.mark.parametrize("configured, expected", [
    pytest.param("", f"{socket.gethostname()}:8080", id="default-hostname-and-port"),
    pytest.param("blue", "blue", id="configured"),
])
def test_instance_id(settings: Settings, configured: str, expected: str) -> None:
    """The instance id is ``[server] instance``, else ``hostname:http_port``."""
    assert instance_id(settings.replace("server", instance=configured)) == expected


class Held(Gateway):
    """send_now's gateway that holds every message until ``go`` is set."""

    name = "held"

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.taken: list[int] = []

    async def send(self, message: Reply) -> SendResult:
        self.taken.append(message.outbox_id or 0)
        await self.go.wait()
        return SendResult(f"h-{message.outbox_id}")


@pytest.mark.parametrize("dialog", [
    pytest.param(["1"], id="menu-reply"),
    pytest.param(["1", "2", "18900001111", "50", "1", "123456"], id="recharge-receipts"),
])
async def test_replies_sent_at_once_are_not_claimed_by_another_instance(
        ledger: Ledger, agent: dict[str, object], clock: ManualClock, dialog: list[str]) -> None:
    """A step's replies, on their way from its instance (send_now), are leased to it in the
    step's transaction: another instance's drain on the same database claims none of them."""
    from smsmenu.core.types import Channel, Inbound
    from smsmenu.states.engine import Engine

    await Dispatcher(ledger, [Recording()]).drain_once()  # the opening and deposit notices
    mine = Held()
    here = Dispatcher(ledger, [mine], instance="node-a:8080")
    engine = Engine(ledger, on_queued=here.send_now, instance="node-a:8080")
    for n, text in enumerate(dialog):
        await engine.handle(Inbound(AGENT, text, Channel.SMS, clock.now(), f"m{n}"))
    await asyncio.sleep(0)
    assert mine.taken  # on the wire from node-a, not yet marked sent
    other = Recording()
    there = Dispatcher(ledger, [other], instance="node-b:8080")
    assert await there.drain_once() == 0
    assert other.sent == []
    mine.go.set()
    await here.aclose()
    clock.advance(seconds=LEASE_S)
    assert await there.drain_once() == 0  # sent by node-a: nothing left for anyone
    await there.aclose()


async def test_one_instance_leases_nothing(ledger: Ledger, agent: dict[str, object],
                                           clock: ManualClock) -> None:
    """Without an instance id (one server, tests), a step's replies are plain queued rows."""
    from smsmenu.core.types import Channel, Inbound
    from smsmenu.states.engine import Engine

    await Dispatcher(ledger, [Recording()]).drain_once()  # the opening and deposit notices
    queued: list[Reply] = []
    engine = Engine(ledger, on_queued=queued.extend)
    await engine.handle(Inbound(AGENT, "1", Channel.SMS, clock.now(), "k1"))
    drain = Recording()
    assert await Dispatcher(ledger, [drain]).drain_once() == len(queued) == 1
