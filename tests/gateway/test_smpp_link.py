"""The SMPP gateway (ESME) against the SMSC simulator on 127.0.0.1: MO, MT, faults, reconnects."""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from simulator.smsc import SmscSimulator
from smsmenu.core.errors import TransportError
from smsmenu.core.types import Channel, Inbound, Msisdn, Reply
from smsmenu.gateway.base import Answered, sender_msisdn
from smsmenu.gateway.smpp import SmppGateway
from smsmenu.gateway.smpp_codec import MAX_PDU, RINVCMDID, RINVCMDLEN, Sequence, encode, make, parse
from smsmenu.gateway.smpp_config import SmppBind
from smsmenu.gateway.smpp_reader import PduReader

PHONE = "18912345678"
NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
CHINESE_300 = ("您的充值已成功到账，感谢使用空中充值业务。" * 15)[:300]
FAST: dict[str, Any] = dict(
    enquire_interval=5.0, response_timeout=1.0, connect_timeout=1.0, backoff_initial=0.02,
    backoff_max=0.1, throttle_delay=0.01, source_addr="10658",
)  # fmt: skip


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


class Engine:
    """A stand-in for the menu engine: records, can be held at a gate, can fail."""

    def __init__(self) -> None:
        self.seen: list[Inbound] = []
        self.entered: asyncio.Queue[Inbound] = asyncio.Queue()
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_next = 0

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.seen]

    def sender(self, raw: str) -> Msisdn | None:
        return sender_msisdn(raw)

    async def __call__(self, inbound: Inbound) -> Answered:
        self.seen.append(inbound)
        self.entered.put_nowait(inbound)
        await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("engine could not commit")
        return Answered([Reply(inbound.msisdn, f"echo {inbound.text}")])


async def until(predicate: Callable[[], bool], limit: float = 3.0) -> None:
    for _ in range(int(limit / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator({"esme": "secret", "esme2": "secret2"}, redeliver_after=0.5,
                             retry_delay=0.01) as sim:  # fmt: skip
        yield sim


@asynccontextmanager
async def esme(
    smsc: SmscSimulator, engine: Engine, *binds: SmppBind, **kwargs: Any
) -> AsyncIterator[SmppGateway]:
    gateway = SmppGateway(
        binds or SmppBind("esme", "secret", "127.0.0.1", smsc.port, **FAST), engine,
        clock=FixedClock(), **kwargs,
    )  # fmt: skip
    gateway.start()
    try:
        async with asyncio.timeout(3):
            await gateway.wait_bound()
        yield gateway
    finally:
        await gateway.aclose()


async def test_binds_as_transceiver_and_unbinds_on_close(smsc: SmscSimulator) -> None:
    """The ESME binds as transceiver; aclose unbinds and the SMSC sees it go."""
    async with esme(smsc, Engine()) as gateway:
        assert gateway.bound
        assert [(c.system_id, c.mode) for c in smsc.binds] == [("esme", "trx")]
    assert not gateway.bound
    await until(lambda: not smsc.binds)


async def test_mo_is_acknowledged_only_after_the_handler_returned(smsc: SmscSimulator) -> None:
    """deliver_sm_resp goes out only once the engine's handler has returned."""
    engine = Engine()
    engine.gate.clear()
    async with esme(smsc, engine):
        ticket = await smsc.handset(PHONE).send("1")
        inbound = await asyncio.wait_for(engine.entered.get(), 2)
        await asyncio.sleep(0.1)
        assert ticket.acked_parts == 0
        engine.gate.set()
        await asyncio.wait_for(ticket.delivered(), 2)
    assert (inbound.msisdn, inbound.text, inbound.channel) == (PHONE, "1", Channel.SMS)
    assert inbound.received_at == NOW
    assert len(inbound.key) == 32
    assert inbound.meta["service"] == "10658"


async def test_handler_failure_is_nacked_and_redelivered(smsc: SmscSimulator) -> None:
    """A handler that raises gets ESME_RX_T_APPNACK; the SMSC redelivers and it goes through."""
    engine = Engine()
    engine.fail_next = 1
    async with esme(smsc, engine):
        ticket = await smsc.handset(PHONE).send("2")
        await asyncio.wait_for(ticket.delivered(), 3)
    assert ticket.attempts == 2
    assert engine.texts == ["2", "2"]


async def test_lost_response_is_redelivered_and_never_deduplicated(smsc: SmscSimulator) -> None:
    """A deliver_sm whose response was lost comes again and reaches the engine again."""
    engine = Engine()
    smsc.faults.lose_mo_acks = 1
    async with esme(smsc, engine):
        ticket = await smsc.handset(PHONE).send("1")
        await asyncio.wait_for(ticket.delivered(), 3)
    assert ticket.redelivered == 1
    assert engine.texts == ["1", "1"]
    assert engine.seen[0].key != engine.seen[1].key


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param("Your balance is 120.00 yuan.", 1, id="gsm"),
        pytest.param("充值成功", 1, id="ucs2"),
        pytest.param(CHINESE_300, 5, id="chinese-300"),
    ],
)
async def test_reply_arrives_whole_in_the_handset(
    smsc: SmscSimulator, text: str, parts: int
) -> None:
    """send() submits every part; the handset shows the reply whole, a 300-char Chinese one too."""
    async with esme(smsc, Engine()) as gateway:
        result = await gateway.send(Reply(PHONE, text, outbox_id=1))
        received = await smsc.handset(PHONE).receive(timeout=2)
    assert (received.text, received.sender) == (text, "10658")
    assert smsc.stats.submits == parts
    assert result.message_id == smsc.stats.message_ids[-1]


@pytest.mark.parametrize(
    ("concat", "text", "parts"),
    [
        pytest.param("udh8", "1 13312345678 50 123456 " * 17, None, id="udh-8bit"),
        pytest.param("udh16", "充值" * 75, None, id="udh-16bit"),
        pytest.param("sar", "1 13312345678 50 123456", 3, id="sar-tlvs"),
    ],
)
async def test_three_part_mo_is_reassembled(
    smsc: SmscSimulator, concat: Any, text: str, parts: int | None
) -> None:
    """A 3-part MO reaches the engine once, whole, whichever concatenation it used."""
    engine = Engine()
    async with esme(smsc, engine):
        ticket = await smsc.handset(PHONE).send(text, concat=concat, parts=parts)
        await asyncio.wait_for(ticket.delivered(), 2)
    assert ticket.parts == 3
    assert engine.texts == [text]


async def test_reconnects_after_link_killed_mid_dialog(smsc: SmscSimulator) -> None:
    """The SMSC drops the link while the engine works; the ESME rebinds, nothing is lost."""
    engine = Engine()
    phone = smsc.handset(PHONE)
    async with esme(smsc, engine) as gateway:
        first = await phone.send("1")
        await asyncio.wait_for(first.delivered(), 2)
        engine.gate.clear()
        second = await phone.send("2")
        await asyncio.wait_for(engine.entered.get(), 2)
        await engine.entered.get()
        await smsc.drop_links()
        engine.gate.set()
        await asyncio.wait_for(second.delivered(), 3)
        third = await phone.send("3")
        await asyncio.wait_for(third.delivered(), 2)
        await gateway.send(Reply(PHONE, "step 3 done"))
        assert (await phone.receive(timeout=2)).text == "step 3 done"
        assert gateway.links[0].binds == 2
    assert engine.texts == ["1", "2", "2", "3"]
    assert second.redelivered == 1


async def test_throttled_submit_slows_down_then_succeeds(smsc: SmscSimulator) -> None:
    """ESME_RTHROTTLED twice, then OK: send() retries after a pause and succeeds once."""
    smsc.faults.throttle_next = 2
    async with esme(smsc, Engine()) as gateway:
        result = await gateway.send(Reply(PHONE, "ok"))
    assert result.message_id is not None
    assert smsc.stats.submits == 1
    assert [m.text for m in smsc.handset(PHONE).inbox] == ["ok"]


async def test_endless_throttling_raises_transport_error(smsc: SmscSimulator) -> None:
    """When the SMSC keeps throttling past the retries, send() raises TransportError."""
    smsc.faults.throttle_next = 100
    bind = SmppBind("esme", "secret", "127.0.0.1", smsc.port, **{**FAST, "throttle_retries": 2})
    async with esme(smsc, Engine(), bind) as gateway:
        with pytest.raises(TransportError):
            await gateway.send(Reply(PHONE, "never"))
    assert smsc.faults.throttle_next == 97


async def test_garbage_gets_generic_nack_and_link_stays_up(smsc: SmscSimulator) -> None:
    """Garbage bytes are answered with generic_nack; the same bind carries the next MO."""
    engine = Engine()
    async with esme(smsc, engine) as gateway:
        smsc.send_garbage(b"\xde\xad\xbe\xef not an SMPP PDU \r\n")
        ticket = await smsc.handset(PHONE).send("1")
        await asyncio.wait_for(ticket.delivered(), 2)
        link = gateway.links[0]
        assert link.session is not None and link.session.nacks_sent >= 1
        assert link.binds == 1 and gateway.bound
    assert engine.texts == ["1"]


async def test_wrong_password_fails_cleanly_and_retries_with_backoff(smsc: SmscSimulator) -> None:
    """A refused bind is retried with back-off, without crashing, until the password works."""
    bind = SmppBind("esme", "wrong", "127.0.0.1", smsc.port, **FAST)
    gateway = SmppGateway(bind, Engine())
    gateway.start()
    try:
        await until(lambda: gateway.links[0].failures >= 3)
        assert not gateway.bound
        assert "Invalid Password" in gateway.links[0].last_error
        health = gateway.health()
        assert health.bound is False and health.links[0].bound is False
        assert health.links[0].failures >= 3 and "Invalid Password" in health.links[0].last_error
        smsc.accounts["esme"] = "wrong"
        async with asyncio.timeout(2):
            await gateway.wait_bound()
    finally:
        await gateway.aclose()
    assert smsc.stats.bind_failures >= 3


async def test_vendor_tlv_gives_the_message_key(smsc: SmscSimulator) -> None:
    """The carrier's id in the configured vendor TLV becomes the key; other vendor TLVs are fine."""
    engine = Engine()
    async with esme(smsc, engine, message_id_tlv=0x1401):
        phone = smsc.handset(PHONE)
        with_id = await phone.send("1", tlvs={0x1401: b"CT-000123\0", 0x1600: b"\x07\x08"})
        without = await phone.send("2", tlvs={0x1600: b"\x07"})
        await asyncio.wait_for(asyncio.gather(with_id.delivered(), without.delivered()), 2)
    assert (engine.seen[0].key, engine.seen[0].durable_key) == ("CT-000123", True)
    assert (len(engine.seen[1].key), engine.seen[1].durable_key) == (32, False)


async def test_delivery_receipts_reach_on_receipt(smsc: SmscSimulator) -> None:
    """Receipts (esm_class 0x04) go to on_receipt with the submit's message id, not the engine."""
    engine = Engine()
    receipts: list[tuple[str, str]] = []

    async def on_receipt(message_id: str, stat: str, raw: str) -> None:
        receipts.append((message_id, stat))

    async with esme(smsc, engine, on_receipt=on_receipt) as gateway:
        result = await gateway.send(Reply(PHONE, "hello"))
        await until(lambda: bool(receipts))
    assert receipts == [(result.message_id, "DELIVRD")]
    assert engine.seen == []


async def test_window_bounds_outstanding_submits(smsc: SmscSimulator) -> None:
    """No more submit_sm are outstanding than the window allows; all still get through."""
    smsc.faults.submit_delay = 0.05
    bind = SmppBind("esme", "secret", "127.0.0.1", smsc.port, **{**FAST, "window": 2})
    peak = 0
    async with esme(smsc, Engine(), bind) as gateway:

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, gateway.in_flight)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(gateway.send(Reply(PHONE, f"m{i}")) for i in range(6)))
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    assert peak == 2
    assert sorted(m.text for m in smsc.handset(PHONE).inbox) == [f"m{i}" for i in range(6)]


async def test_two_binds_share_the_traffic(smsc: SmscSimulator) -> None:
    """Several binds come up on their own; the SMSC round-robins MO over them."""
    engine = Engine()
    binds = [SmppBind(s, p, "127.0.0.1", smsc.port, **FAST)
             for s, p in [("esme", "secret"), ("esme2", "secret2")]]  # fmt: skip
    async with esme(smsc, engine, *binds) as gateway:
        await smsc.wait_bound(2)
        await until(lambda: all(link.bound for link in gateway.links))
        tickets = [await smsc.handset(f"1891234560{i}").send("1") for i in range(4)]
        await asyncio.wait_for(asyncio.gather(*(t.delivered() for t in tickets)), 2)
    assert {m.meta["smpp_bind"].split("@")[0] for m in engine.seen} == {"esme", "esme2"}


async def test_silent_smsc_is_detected_by_enquire_link() -> None:
    """An SMSC that stops answering enquire_link is dropped and the ESME binds again."""
    binds = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal binds
        frames = PduReader(reader)
        try:
            frame = await frames.read()
            assert isinstance(frame, bytes)
            bind = parse(frame)
            resp = make("bind_transceiver_resp", Sequence(), sequence=bind.sequence)
            writer.write(encode(resp))
            binds += 1
            while True:
                await frames.read()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    fast = {**FAST, "enquire_interval": 0.05, "response_timeout": 0.1}
    gateway = SmppGateway(SmppBind("esme", "secret", "127.0.0.1", port, **fast), Engine())
    gateway.start()
    try:
        await until(lambda: binds >= 2 and gateway.links[0].binds >= 2)
    finally:
        await gateway.aclose()
        server.close()
        await server.wait_closed()


async def test_send_without_a_bind_raises_transport_error() -> None:
    """With no bind up, send() gives up after send_wait with TransportError."""
    gateway = SmppGateway(SmppBind("esme", "secret", "127.0.0.1", 9, **FAST), Engine(),
                          send_wait=0.05)  # fmt: skip
    with pytest.raises(TransportError):
        await gateway.send(Reply(PHONE, "nobody listens"))
    await gateway.aclose()


async def test_close_lets_a_running_handler_answer_first(smsc: SmscSimulator) -> None:
    """aclose() waits for a handler in progress, sends its deliver_sm_resp, then unbinds."""
    engine = Engine()
    engine.gate.clear()
    async with esme(smsc, engine) as gateway:
        ticket = await smsc.handset(PHONE).send("1")
        await asyncio.wait_for(engine.entered.get(), 2)
        closing = asyncio.create_task(gateway.aclose(grace=2))
        await asyncio.sleep(0.05)
        engine.gate.set()
        await closing
    await asyncio.wait_for(ticket.delivered(), 1)
    assert ticket.attempts == 1


async def test_mo_before_attach_waits_for_the_handler(smsc: SmscSimulator) -> None:
    """MO arriving before a handler is attached is nacked and redelivered, then handled."""
    engine = Engine()
    gateway = SmppGateway(SmppBind("esme", "secret", "127.0.0.1", smsc.port, **FAST))
    gateway.start()
    try:
        ticket = await smsc.handset(PHONE).send("1")
        await until(lambda: smsc.stats.redeliveries >= 1)
        gateway.attach(engine)
        await asyncio.wait_for(ticket.delivered(), 3)
    finally:
        await gateway.aclose()
    assert engine.texts == ["1"]
    assert ticket.attempts >= 2


async def test_generic_nack_carries_the_offending_pdu_sequence(smsc: SmscSimulator) -> None:
    """An oversized PDU and an unknown (SMPP 5.0) command get generic_nack with their sequence."""
    reader, writer = await asyncio.open_connection("127.0.0.1", smsc.port)
    frames = PduReader(reader)
    oversized = struct.pack(">LLLL", MAX_PDU + 1, 0x05, 0, 77)
    broadcast_sm = struct.pack(">LLLL", 20, 0x111, 0, 78) + b"\0" * 4
    try:
        writer.write(oversized + broadcast_sm + encode(make("enquire_link", Sequence(), sequence=79)))
        async with asyncio.timeout(5):  # (only so that a missing answer fails instead of hanging)
            raw = [await frames.read() for _ in range(3)]
        answers = [parse(f) for f in raw if isinstance(f, bytes)]
    finally:
        writer.close()
        await writer.wait_closed()
    assert [(a.command, a.status, a.sequence) for a in answers] == [
        ("generic_nack", RINVCMDLEN, 77), ("generic_nack", RINVCMDID, 78), ("enquire_link_resp", 0, 79),
    ]  # fmt: skip
