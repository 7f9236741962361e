"""The SMGP client against the ISMG simulator over 127.0.0.1: login, windows, keepalive, faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from simulator.ismg import IsmgSimulator
from simulator.ismg_handset import MoPart
from simulator.smsc_handset import MoItem, MoTicket
from smsmenu.core.errors import TransportError
from smsmenu.core.types import Inbound, Reply
from smsmenu.gateway.base import FunctionHandler
from smsmenu.gateway.smgp import SmgpGateway
from smsmenu.gateway.smgp_codec import Cmd, Status, Tag
from smsmenu.gateway.smgp_config import SmgpLinkConfig, parse_smgp_url
from smsmenu.gateway.smgp_fields import tlv
from smsmenu.gateway.smgp_packets import Bare, Deliver, DeliverResp
from smsmenu.gateway.smgp_text import GB18030
from smsmenu.gateway.smpp_reassembly import Limits

PHONE = "18900000001"
FAST: dict[str, Any] = dict(response_timeout=0.5, connect_timeout=1.0, backoff_initial=0.02,
                            backoff_max=0.1, throttle_delay=0.01, sp="10658")  # fmt: skip


@pytest.fixture
async def ismg() -> AsyncIterator[IsmgSimulator]:
    async with IsmgSimulator({"SP01": "secret"}, redeliver_after=0.3, retry_delay=0.01,
                             active_test_interval=0) as sim:  # fmt: skip
        yield sim


class Inbox:
    """A handler that keeps what reached it; ``fail`` makes the next N calls raise."""

    def __init__(self) -> None:
        self.got: list[Inbound] = []
        self.fail = 0

    async def __call__(self, msg: Inbound) -> list[Reply]:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("the step did not commit")
        self.got.append(msg)
        return []


def gateway(ismg: IsmgSimulator, inbox: Inbox | None = None, secret: str = "secret",
            **options: Any) -> SmgpGateway:  # fmt: skip
    config = SmgpLinkConfig("SP01", secret, "127.0.0.1", ismg.port, **{**FAST, **options})
    return SmgpGateway(config, FunctionHandler(inbox or Inbox()))


async def up(gw: SmgpGateway) -> SmgpGateway:
    gw.start()
    await asyncio.wait_for(gw.wait_bound(), 3)
    return gw


def test_url_gives_every_field_and_refuses_unknown_ones() -> None:
    """smgp://ID:SECRET@HOST:PORT?sp=...&mode=...: the issue's form, checked."""
    c = parse_smgp_url("smgp://SP01:p%40ss@ismg.example:9890?sp=10658&mode=0&window=32&concat=tlv")
    assert (c.client_id, c.secret, c.host, c.port, c.sp, c.mode, c.window, c.concat) == (
        "SP01", "p@ss", "ismg.example", 9890, "10658", 0, 32, "tlv")
    assert parse_smgp_url("smgp://SP01:x@h").port == 8890 and c.label == "SP01@ismg.example:9890/send"
    for bad in ("smpp://a:b@h", "smgp://a:b@h?fee=1", "smgp://a:b@h?mode=3",
                "smgp://TOOLONGID:b@h", "smgp://a:b@h?coding=big5"):
        with pytest.raises(ValueError):
            parse_smgp_url(bad)


async def test_wrong_secret_is_refused_and_retried_with_back_off(ismg: IsmgSimulator) -> None:
    """The ISMG checks the MD5 authenticator: a wrong secret gets status 21, never a link."""
    gw = gateway(ismg, secret="wrong")
    gw.start()
    await asyncio.sleep(0.3)
    try:
        assert not gw.bound and ismg.stats.logins == 0 and ismg.stats.login_failures >= 2
        assert "21 BAD_AUTH" in gw.links[0].last_error
    finally:
        await gw.aclose()


async def test_mo_reaches_the_handler_and_is_acked_after_it(ismg: IsmgSimulator) -> None:
    """A Deliver gets its DeliverResp OK once the handler returned; a failed step answers busy
    and the ISMG delivers the same MsgID again (the same key: no second charge)."""
    inbox = Inbox()
    inbox.fail = 1
    gw = await up(gateway(ismg, inbox))
    try:
        ticket = await ismg.handset(PHONE).send("1")
        await asyncio.wait_for(ticket.delivered(), 3)
    finally:
        await gw.aclose()
    assert ticket.attempts == 2 and [m.text for m in inbox.got] == ["1"]
    msg = inbox.got[0]
    assert msg.msisdn == PHONE and msg.durable_key and msg.key.startswith("smgp-5910")
    assert msg.meta["service"] == "10658"


async def test_long_mo_in_udh_or_tlv_parts_and_gb18030(ismg: IsmgSimulator) -> None:
    """Parts joined per sender (UDH or PkTotal/PkNumber), GB18030 and UCS2 both read."""
    inbox = Inbox()
    gw = await up(gateway(ismg, inbox))
    text = "请输入C网手机号码" * 12
    try:
        phone = ismg.handset(PHONE)
        for concat in (None, "sar"):
            ticket = await phone.send(text, concat=concat)  # type: ignore[arg-type]
            await asyncio.wait_for(ticket.delivered(), 3)
            assert ticket.parts == 2
        phone.wide = GB18030
        ticket = await phone.send("余额")
        await asyncio.wait_for(ticket.delivered(), 3)
    finally:
        await gw.aclose()
    assert [m.text for m in inbox.got] == [text, text, "余额"]


async def test_mo_reassembly_is_bounded(ismg: IsmgSimulator) -> None:
    """A sender's unfinished messages are capped (the SMPP reassembly's limits)."""
    inbox = Inbox()
    config = SmgpLinkConfig("SP01", "secret", "127.0.0.1", ismg.port, **FAST)
    gw = SmgpGateway(config, FunctionHandler(inbox), limits=Limits(per_source=2))
    await up(gw)
    try:
        phone = ismg.handset(PHONE)
        tickets = [MoTicket(parts=1) for _ in range(4)]
        for ref, ticket in enumerate(tickets):  # four first halves, never their second
            part = MoPart(bytes([5, 0, 3, ref, 2, 1]) + b"x" * 100, 0, ((Tag.TP_UDHI, b"\x01"),))
            phone.queue.put_nowait(MoItem({"part": part, "to": "10658"}, {}, ticket))
        await asyncio.wait_for(asyncio.gather(*(t.delivered() for t in tickets)), 3)
        assert len(gw.receiver.reassembler) == 2 and gw.receiver.reassembler.dropped == 2
        assert not inbox.got
    finally:
        await gw.aclose()


async def test_long_mt_is_free_and_split_as_configured(ismg: IsmgSimulator) -> None:
    """Every part a whole Submit (ServiceID, fees "00"/"000000", report flag); UDH or TLVs,
    never both; the handset shows one text; the last part's MsgID is the message id."""
    text = "充值成功 手机15300002222 100.00元 佣金2.00元" * 4
    for concat in ("udh", "tlv"):
        gw = await up(gateway(ismg, concat=concat, service_id="RECHARGE"))
        try:
            result = await gw.send(Reply(PHONE, text))
        finally:
            await gw.aclose()
        received = await ismg.handset(PHONE).receive(2)
        assert received.text == text and received.sender == "10658"
        assert result.message_id == received.message_ids[-1] and len(received.message_ids) == 3
        parts = list(ismg.stats.submitted)[-3:]
        assert {(p.fee_type, p.fee_code, p.fixed_fee, p.service_id, p.need_report, p.msg_type)
                for p in parts} == {("00", "000000", "000000", "RECHARGE", 1, 6)}
        udh = [tlv(p.tlvs, Tag.TP_UDHI) for p in parts]
        assert udh == ([b"\x01"] * 3 if concat == "udh" else [None] * 3)
    assert ismg.stats.both_concat == 0


async def test_status_reports_reach_on_receipt_by_msg_id(ismg: IsmgSimulator) -> None:
    """NeedReport 1: the ISMG's report carries the Submit's MsgID; ``on_receipt`` gets it."""
    got: list[tuple[str, str]] = []

    async def on_receipt(message_id: str, stat: str, raw: str) -> None:
        got.append((message_id, stat))

    gw = gateway(ismg)
    gw.attach(FunctionHandler(Inbox()), on_receipt)
    await up(gw)
    try:
        result = await gw.send(Reply(PHONE, "YE*135790"))
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.01)
    finally:
        await gw.aclose()
    assert got == [(result.message_id, "DELIVRD")]


async def test_busy_is_retried_and_a_lost_submit_resp_is_a_transport_error(
        ismg: IsmgSimulator) -> None:  # fmt: skip
    """Status 1 (busy): the link slows down and tries again; no SubmitResp in time: the outbox
    keeps the message (TransportError), the link stays up."""
    gw = await up(gateway(ismg))
    try:
        ismg.faults.busy_next = 2
        assert (await gw.send(Reply(PHONE, "a"))).message_id
        ismg.faults.lose_submit_resps = 1
        with pytest.raises(TransportError):
            await gw.send(Reply(PHONE, "b"))
        assert gw.bound and (await gw.send(Reply(PHONE, "c"))).message_id
    finally:
        await gw.aclose()


async def test_window_bounds_outstanding_submits(ismg: IsmgSimulator) -> None:
    """At most ``window`` Submits await their response at once."""
    gw = await up(gateway(ismg, window=3))
    ismg.faults.submit_delay = 0.05
    seen = 0

    async def watch() -> None:
        nonlocal seen
        while True:
            seen = max(seen, gw.in_flight)
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.gather(*(gw.send(Reply(PHONE, str(n))) for n in range(9)))
    finally:
        watcher.cancel()
        await gw.aclose()
    assert seen == 3


async def test_active_test_both_ways_and_a_silent_ismg_is_dropped(ismg: IsmgSimulator) -> None:
    """We answer the ISMG's ActiveTest; ours go out when it is quiet; unanswered ones (up to
    the retries) drop the link, which is made again."""
    gw = await up(gateway(ismg, active_test_interval=0.05, active_test_retries=2,
                          response_timeout=0.1))  # fmt: skip
    try:
        conn = ismg.links[0]
        assert isinstance(await conn.session.request(Bare(Cmd.ACTIVE_TEST)), Bare)
        before = ismg.stats.logins
        conn.session._dispatch = lambda f, p: None  # type: ignore[method-assign]  # deaf ISMG
        for _ in range(200):
            if ismg.stats.logins > before and gw.bound:
                break
            await asyncio.sleep(0.01)
        assert ismg.stats.logins > before and gw.links[0].logins == 2
    finally:
        await gw.aclose()


async def test_reconnects_after_a_drop_and_exits_on_close(ismg: IsmgSimulator) -> None:
    """A dropped link logs in again (back-off); ``aclose`` sends Exit and stops reconnecting."""
    gw = await up(gateway(ismg))
    await ismg.drop_links()
    await asyncio.wait_for(gw.wait_bound(), 3)
    assert gw.links[0].logins == 2 and gw.links[0].failures == 1
    exits: list[int] = []
    conn = ismg.links[0]
    original = conn.session._dispatch

    def spy(f: Any, p: Any) -> None:
        exits.append(f.command)
        original(f, p)

    conn.session._dispatch = spy  # type: ignore[method-assign]
    await gw.aclose()
    assert Cmd.EXIT in exits and not gw.bound
    await asyncio.sleep(0.1)
    assert ismg.links == []


async def test_send_only_and_receive_only_links(ismg: IsmgSimulator) -> None:
    """LoginMode 0 and 1 apart: MT leave on the send link, MO come on the receive link."""
    inbox = Inbox()
    configs = [SmgpLinkConfig("SP01", "secret", "127.0.0.1", ismg.port, mode=m, **FAST)
               for m in (0, 1)]  # fmt: skip
    gw = await up(SmgpGateway(configs, FunctionHandler(inbox)))
    try:
        assert sorted(c.mode for c in ismg.links) == [0, 1]
        ticket = await ismg.handset(PHONE).send("1")
        await asyncio.wait_for(ticket.delivered(), 3)
        await gw.send(Reply(PHONE, "ok"))
        assert (await ismg.handset(PHONE).receive(2)).text == "ok"
    finally:
        await gw.aclose()
    assert [m.text for m in inbox.got] == ["1"]


@dataclass(frozen=True)
class CutDeliver:
    """A Deliver whose body ends inside its fields."""

    COMMAND = Cmd.DELIVER

    def body(self) -> bytes:
        return Deliver(b"\x01" * 10, PHONE, "10658", b"x").body()[:40]


async def test_a_malformed_deliver_is_answered_and_the_link_stays(ismg: IsmgSimulator) -> None:
    """A Deliver whose body does not fit is answered status 10 (structure); the link goes on."""
    inbox = Inbox()
    gw = await up(gateway(ismg, inbox))
    try:
        resp = await ismg.links[0].session.request(CutDeliver())  # type: ignore[arg-type]
        assert isinstance(resp, DeliverResp) and resp.status == Status.BAD_STRUCTURE
        assert resp.msg_id == b"\x01" * 10
        ticket = await ismg.handset(PHONE).send("1")
        await asyncio.wait_for(ticket.delivered(), 3)
    finally:
        await gw.aclose()
    assert [m.text for m in inbox.got] == ["1"]


async def test_a_drop_with_a_submit_pending_fails_it_at_once(ismg: IsmgSimulator) -> None:
    """No deadlock on disconnect: a Submit awaiting its response fails as the link drops (the
    outbox keeps the message), not after the response timeout; the link logs in again."""
    gw = await up(gateway(ismg, response_timeout=5.0))
    ismg.faults.submit_delay = 1.0
    try:
        sending = asyncio.create_task(gw.send(Reply(PHONE, "x")))
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await ismg.drop_links()
        with pytest.raises(TransportError):
            await sending
        assert loop.time() - began < 0.5
        ismg.faults.submit_delay = 0.0
        await asyncio.wait_for(gw.wait_bound(), 3)
    finally:
        await gw.aclose()


async def test_long_messages_on_two_links_never_share_a_reference(ismg: IsmgSimulator) -> None:
    """Two long MT to one handset at once over two links: parts are numbered per message (one
    reference counter for every link), so the handset joins each whole."""
    configs = [SmgpLinkConfig("SP01", "secret", "127.0.0.1", ismg.port, **FAST)
               for _ in range(2)]  # fmt: skip
    gw = await up(SmgpGateway(configs, FunctionHandler(Inbox())))
    texts = ["甲" * 150, "乙" * 150]
    try:
        await asyncio.gather(*(gw.send(Reply(PHONE, t)) for t in texts))
    finally:
        await gw.aclose()
    got = [(await ismg.handset(PHONE).receive(2)).text for _ in texts]
    assert sorted(got) == sorted(texts)
    refs = {p.content[3] for p in ismg.stats.submitted}
    assert len(refs) == 2
