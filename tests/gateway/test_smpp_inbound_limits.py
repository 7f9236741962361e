"""Bounds of the SMPP inbound side: reassembly parts, octets and age, per-sender and handler queues."""

from __future__ import annotations

import asyncio
import struct
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest

from simulator.smsc import SmscSimulator
from smsmenu.core.types import Inbound, Msisdn
from smsmenu.gateway.base import Answered, sender_msisdn
from smsmenu.gateway.smpp import SmppGateway
from smsmenu.gateway.smpp_codec import ROK, RX_T_APPNACK, Pdu, Sequence, encode, make, parse
from smsmenu.gateway.smpp_config import SmppBind
from smsmenu.gateway.smpp_inbound import Limits, Reassembler
from smsmenu.gateway.smpp_reader import PduReader
from smsmenu.gateway.smpp_receive import MoReceiver
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import GSM7, UDHI, Segment
from smsmenu.states.engine import PER_SENDER, Turns

AGENT = "18900000001"
FAST: dict[str, Any] = dict(
    enquire_interval=5.0, response_timeout=1.0, connect_timeout=1.0, backoff_initial=0.02,
    backoff_max=0.1, source_addr="10658",
)  # fmt: skip


async def until(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    """Wait for ``predicate``; fail if it never holds (the limit only stops a hang)."""
    for _ in range(int(limit / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


class Session:
    """Records the receiver's answers in place of a link."""

    name = "fake"

    def __init__(self) -> None:
        self.answers: list[tuple[int, int]] = []

    def respond(self, pdu: Pdu, status: int = ROK, **fields: Any) -> None:
        self.answers.append((pdu.sequence, status))

    def nack(self, sequence: int, status: int) -> None:
        raise AssertionError("no generic_nack expected")


class GatedMenu:
    """An engine stand-in held at a gate; counts how many messages it holds at once.

    It takes each sender's turn as the engine does (``Turns``, bounded, on entry, before it
    first suspends): the receiver leaves the order and the bound of a sender's messages to its
    handler.
    """

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.seen: list[Inbound] = []
        self.inside = 0
        self.most_inside = 0
        self.turns = Turns()

    def sender(self, raw: str) -> Msisdn | None:
        return sender_msisdn(raw)

    async def __call__(self, inbound: Inbound) -> Answered:
        await self.turns.take(inbound.msisdn)
        self.seen.append(inbound)
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            await self.gate.wait()
        finally:
            self.inside -= 1
            self.turns.give(inbound.msisdn)
        return Answered([])


def first_part(source: str, octets: int, ref: int = 1) -> Pdu:
    """Part 1 of 2 of a concatenated deliver_sm, ``octets`` of payload after the UDH."""
    udh = bytes([5, 0, 3, ref & 0xFF, 2, 1])
    return parse(encode(make("deliver_sm", Sequence(), source_addr=source, esm_class=UDHI,
                             message_payload=udh + b"x" * octets)))  # fmt: skip


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(Segment(7, 2, 3), id="3-of-2"),
        pytest.param(Segment(7, 2, 0), id="0-of-2"),
        pytest.param(Segment(7, 0, 1), id="1-of-0"),
    ],
)
def test_part_out_of_range_is_refused_and_the_message_still_completes(bad: Segment) -> None:
    """A part numbered beyond its total is dropped; the parts already there still complete."""
    buf = Reassembler()
    assert buf.add(AGENT, Segment(7, 2, 1), GSM7, b"a") is None
    assert buf.add(AGENT, bad, GSM7, b"X") is None
    assert buf.add(AGENT, Segment(7, 2, 2), GSM7, b"b") == "ab"
    assert buf.dropped == 1


@pytest.mark.parametrize(
    ("total", "joined"),
    [pytest.param(16, True, id="16-parts-join"), pytest.param(17, False, id="17-parts-refused")],
)
def test_parts_per_message_are_bounded(total: int, joined: bool) -> None:
    """A message of up to 16 parts is joined; a part saying it is one of 17 is dropped at once."""
    buf = Reassembler()
    results = [buf.add(AGENT, Segment(1, total, n), GSM7, b"p") for n in range(1, total + 1)]
    assert (results[-1] == "p" * total) is joined
    assert buf.dropped == (0 if joined else total)
    assert buf.held == (total if joined else 0)


@pytest.mark.parametrize(
    ("second", "joined"),
    [pytest.param(2048, True, id="4096-octets-join"), pytest.param(2049, False, id="4097-refused")],
)
def test_octets_per_message_are_bounded(second: int, joined: bool) -> None:
    """Parts of one message may hold 4096 octets together; the part going beyond is dropped."""
    buf = Reassembler()
    assert buf.add(AGENT, Segment(2, 2, 1), GSM7, b"a" * 2048) is None
    whole = buf.add(AGENT, Segment(2, 2, 2), GSM7, b"b" * second)
    assert (whole is not None) is joined
    assert buf.held == 2048 + (second if joined else 0)


def test_a_redelivered_part_is_held_once() -> None:
    """The same part delivered twice occupies its octets once."""
    buf = Reassembler()
    for _ in range(3):
        assert buf.add(AGENT, Segment(3, 2, 1), GSM7, b"a" * 100) is None
    assert (len(buf), buf.held) == (1, 100)


def test_unfinished_messages_per_sender_are_bounded() -> None:
    """One sender holds at most 8 unfinished messages; another sender is not held back by it."""
    buf = Reassembler()
    held = [buf.add(AGENT, Segment(ref, 2, 1), GSM7, b"a") for ref in range(9)]
    assert held == [None] * 9
    assert (len(buf), buf.dropped) == (8, 1)
    assert buf.add("18900000002", Segment(0, 2, 1), GSM7, b"a") is None
    assert buf.add("18900000002", Segment(0, 2, 2), GSM7, b"b") == "ab"


def test_octets_across_every_message_are_bounded() -> None:
    """Across senders the buffers hold at most 1 MiB; parts beyond it are dropped."""
    buf = Reassembler()
    for n in range(300):
        buf.add(f"189{n:08d}", Segment(1, 2, 1), GSM7, b"x" * 4000)
    assert buf.held <= Limits().total_bytes
    assert buf.dropped == 300 - Limits().total_bytes // 4000


def test_unfinished_messages_across_senders_are_bounded() -> None:
    """No more unfinished messages are kept than ``Limits.messages``."""
    buf = Reassembler(limits=Limits(messages=3))
    for n in range(5):
        buf.add(f"189{n:08d}", Segment(1, 2, 1), GSM7, b"x")
    assert (len(buf), buf.dropped) == (3, 2)


async def test_unfinished_messages_expire_by_a_timer() -> None:
    """A buffer past its age is dropped by the timer, though no other part ever arrives."""
    buf = Reassembler(timeout=0.0)
    assert buf.add(AGENT, Segment(1, 2, 1), GSM7, b"a" * 100) is None
    await until(lambda: len(buf) == 0)
    assert buf.held == 0
    buf.close()


@pytest.mark.parametrize(
    "octets",
    [pytest.param(60_000, id="60KB-parts"), pytest.param(4_000, id="4KB-parts")],
)
async def test_first_parts_flood_holds_bounded_memory(octets: int) -> None:
    """1,500 first parts that never complete leave at most the bound buffered, not +93 MB."""
    receiver, session = MoReceiver(GatedMenu()), Session()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(1500):
            await receiver(cast(SmppSession, session), first_part(f"189{n:08d}", octets))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        receiver.close()
    assert receiver.reassembler.held <= Limits().total_bytes
    assert grown < 2 * Limits().total_bytes
    assert {status for _, status in session.answers} == {ROK}


async def test_waiting_messages_per_sender_are_bounded() -> None:
    """Beyond 8 held messages of one sender the answer is ESME_RX_T_APPN (the handler's bounded
    turn refuses them); the 8 go through, one at a time in arrival order (the handler's turn:
    the receiver calls it in that order)."""
    menu, session = GatedMenu(), Session()
    receiver = MoReceiver(menu)
    pdus = [parse(encode(make("deliver_sm", Sequence(), sequence=n, source_addr=AGENT,
                              short_message=str(n).encode())))
            for n in range(1, PER_SENDER + 3)]  # fmt: skip
    tasks = [asyncio.create_task(receiver(cast(SmppSession, session), pdu)) for pdu in pdus]
    await until(lambda: len(session.answers) == 2)
    assert session.answers == [(PER_SENDER + 1, RX_T_APPNACK), (PER_SENDER + 2, RX_T_APPNACK)]
    menu.gate.set()
    await asyncio.gather(*tasks)
    assert [status for _, status in session.answers[2:]] == [ROK] * PER_SENDER
    assert (len(menu.seen), menu.most_inside, len(menu.turns)) == (PER_SENDER, 1, 0)
    assert [m.text for m in menu.seen] == [str(n) for n in range(1, PER_SENDER + 1)]
    assert [sequence for sequence, _ in session.answers[2:]] == list(range(1, PER_SENDER + 1))


@pytest.fixture
async def smsc() -> AsyncIterator[SmscSimulator]:
    async with SmscSimulator({"esme": "secret"}, redeliver_after=1.0, retry_delay=0.01) as sim:
        yield sim


async def test_handlers_in_flight_are_bounded_and_the_rest_redelivered(smsc: SmscSimulator) -> None:
    """With inbound_window 2, two MO are handled at once; the others are redelivered, all once."""
    menu = GatedMenu()
    bind = SmppBind("esme", "secret", "127.0.0.1", smsc.port, inbound_window=2, **FAST)
    gateway = SmppGateway(bind, menu)
    gateway.start()
    try:
        await asyncio.wait_for(gateway.wait_bound(), 3)
        tickets = [await smsc.handset(f"1890000010{n}").send(str(n)) for n in range(6)]
        await until(lambda: len(menu.seen) == 2 and smsc.stats.redeliveries >= 4)
        assert gateway.links[0].session is not None
        assert gateway.links[0].session.busy_answers >= 4
        menu.gate.set()
        await asyncio.wait_for(asyncio.gather(*(t.delivered() for t in tickets)), 5)
    finally:
        await gateway.aclose()
    assert sorted(m.text for m in menu.seen) == [str(n) for n in range(6)]
    assert menu.most_inside == 2


async def test_busy_answer_is_rx_t_appn_with_the_sequence() -> None:
    """A deliver_sm beyond the session's handlers is answered ESME_RX_T_APPN at once."""
    gate = asyncio.Event()

    async def slow(session: SmppSession, pdu: Pdu) -> None:
        await gate.wait()
        session.respond(pdu)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await SmppSession(reader, writer, slow, window=10, handlers=1).run()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
    frames = PduReader(reader)
    try:
        for seq in (11, 12):
            writer.write(encode(make("deliver_sm", Sequence(), sequence=seq, short_message=b"1")))
        busy = parse(cast(bytes, await frames.read()))
        gate.set()
        done = parse(cast(bytes, await frames.read()))
    finally:
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
    assert struct.unpack(">LL", encode(busy)[8:16]) == (RX_T_APPNACK, 12)
    assert (done.command, done.status, done.sequence) == ("deliver_sm_resp", ROK, 11)
