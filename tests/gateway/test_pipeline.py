"""Every transport reaches the one InboundHandler: sender cleaned by it, replies by the channel rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web

from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import UssdSettings
from smsmenu.core.types import Channel, Delivery, Inbound, Msisdn, Reply
from smsmenu.gateway import http, kannel, ussd
from smsmenu.gateway.base import Answered, SenderBusy, sender_msisdn
from smsmenu.gateway.smpp_codec import ROK, RX_T_APPNACK, Pdu, Sequence, encode, make, parse
from smsmenu.gateway.smpp_receive import MoReceiver
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.server.app import errors

AGENT, OTHER = "18900000001", "18000000002"
RAW = "+8618900000001"
TOKEN = "pipeline-token-0123456789"
CLOCK = ManualClock("2026-11-10T10:00:00")


class Recorder:
    """The one handler, recording what reached it and which raw senders it was asked to clean.

    Its answer: a reply to the sender (the screen) and a notice to another number, both written
    to the outbox (ids 1 and 2), as a step that also notifies a customer answers."""

    def __init__(self, busy: bool = False) -> None:
        self.raw: list[str] = []
        self.seen: list[Inbound] = []
        self.busy = busy

    def sender(self, raw: str) -> Msisdn | None:
        self.raw.append(raw)
        return sender_msisdn(raw)

    async def __call__(self, msg: Inbound) -> Answered:
        if self.busy:
            raise SenderBusy(why="8 waiting")
        self.seen.append(msg)
        return Answered([Reply(msg.msisdn, f"screen {msg.text}", 1),
                         Reply(OTHER, "notice", 2)], final=True)


@asynccontextmanager
async def served(routes: list[web.RouteDef]) -> AsyncIterator[aiohttp.ClientSession]:
    """``routes`` alone on a free port (with the server's error middleware), with a client
    whose base URL is theirs."""
    app = web.Application(middlewares=[errors])
    app.add_routes(routes)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{runner.addresses[0][1]}") as client:
            yield client
    finally:
        await runner.cleanup()


class FakeSession:
    name = "fake"

    def __init__(self) -> None:
        self.answers: list[int] = []

    def respond(self, pdu: Pdu, status: int = ROK, **fields: Any) -> None:
        self.answers.append(status)

    def nack(self, sequence: int, status: int) -> None:
        raise AssertionError("no generic_nack expected")


async def via_smpp(handler: Recorder) -> list[int]:
    receiver = MoReceiver(handler)
    session = FakeSession()
    pdu = parse(encode(make("deliver_sm", Sequence(), source_addr=RAW, short_message=b"1")))
    await receiver(cast(SmppSession, session), pdu)
    receiver.close()
    return session.answers


async def via_kannel(handler: Recorder) -> tuple[int, str]:
    async with served(kannel.routes(handler, CLOCK, accepted=(TOKEN,))) as client:
        url = f"/kannel/mo?token={TOKEN}&from={quote(RAW)}&to=10658&text=1&id=k1"
        async with client.get(url) as resp:
            return resp.status, await resp.text()


async def via_http(handler: Recorder) -> tuple[int, Any]:
    async with served(http.routes(handler, CLOCK, (TOKEN,))) as client:
        async with client.post("/api/sms", json={"from": RAW, "text": "1", "id": "a"},
                               headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
            return resp.status, await resp.json() if resp.status == 200 else None


async def via_ussd(handler: Recorder) -> tuple[int, str]:
    settings = UssdSettings(token=(TOKEN,))
    async with served(ussd.routes(handler, CLOCK, settings)) as client:
        form = {"sessionId": "s1", "serviceCode": "*100#", "phoneNumber": RAW, "text": "1"}
        async with client.post(f"/ussd?token={TOKEN}", data=form) as resp:
            return resp.status, await resp.text()


async def test_every_transport_hands_the_handler_a_sender_it_cleaned() -> None:
    """SMPP, Kannel, /api/sms and /ussd: ``+86...`` is cleaned by the handler's ``sender`` and
    reaches the same handler as the agent's number, on its channel."""
    for via, channel in ((via_smpp, Channel.SMS), (via_kannel, Channel.SMS),
                         (via_http, Channel.HTTP), (via_ussd, Channel.USSD)):
        handler = Recorder()
        await via(handler)
        assert handler.raw == [RAW], via.__name__
        assert [(m.msisdn, m.channel) for m in handler.seen] == [(AGENT, channel)], via.__name__


async def test_each_channel_delivers_the_replies_its_rule_says() -> None:
    """HTTP answers with every reply, USSD with the sender's screen only, SMS (SMPP, Kannel)
    with none: an acknowledgement, the replies are the outbox's."""
    assert await via_smpp(Recorder()) == [ROK]
    assert await via_kannel(Recorder()) == (200, "")
    assert await via_http(Recorder()) == (200, {"replies": [
        {"to": AGENT, "text": "screen 1"}, {"to": OTHER, "text": "notice"}], "replayed": False})
    assert await via_ussd(Recorder()) == (200, "END screen 1")


async def test_a_busy_sender_is_refused_for_now_on_every_transport() -> None:
    """The handler's bound (``SenderBusy``): SMPP answers ESME_RX_T_APPN (redelivered later);
    Kannel, /api/sms and /ussd answer 503 (try again), nothing processed."""
    assert await via_smpp(Recorder(busy=True)) == [RX_T_APPNACK]
    for via in (via_kannel, via_http, via_ussd):
        handler = Recorder(busy=True)
        status, _ = await via(handler)
        assert (status, handler.seen) == (503, []), via.__name__


@pytest.mark.parametrize(
    ("channel", "delivery", "handed"),
    [
        pytest.param(Channel.SMS, Delivery.OUTBOX, [], id="sms"),
        pytest.param(Channel.USSD, Delivery.SENDER, [AGENT], id="ussd"),
        pytest.param(Channel.HTTP, Delivery.ALL, [AGENT, OTHER], id="http"),
        pytest.param(Channel.WEB, Delivery.ALL, [AGENT, OTHER], id="web"),
        pytest.param(Channel.CLI, Delivery.OUTBOX, [], id="cli"),
    ],
)
def test_the_delivery_rule_is_one_table(channel: Channel, delivery: Delivery,
                                        handed: list[str]) -> None:
    """Which replies a channel hands over itself, and which the outbox sends: never both."""
    replies = [Reply(AGENT, "screen", 1), Reply(OTHER, "notice", 2), Reply(AGENT, "unwritten")]
    assert channel.delivery is delivery
    own = delivery.own(replies, AGENT)
    queued = delivery.queued(replies, AGENT)
    assert [r.to for r in own if r.outbox_id is not None] == handed
    assert {r.outbox_id for r in own} & {r.outbox_id for r in queued} == set()
    assert len([r for r in own if r.outbox_id is not None]) + len(queued) == 2
