"""Property tests of the SMPP decoders: arbitrary bytes and PDUs never raise, hang or hoard memory.

200 examples each by default; ``HYPOTHESIS_PROFILE=chaos`` (tests/gateway/conftest.py) runs 2,000.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smpplib import command_codes

from smsmenu.core.types import Inbound, Reply
from smsmenu.gateway.base import FunctionHandler
from smsmenu.gateway.smpp_codec import HEADER, MAX_PDU, ROK, Pdu, PduError, Sequence, encode, make, parse
from smsmenu.gateway.smpp_coding import charset
from smsmenu.gateway.smpp_inbound import Limits, Reassembler, is_receipt, parse_receipt
from smsmenu.gateway.smpp_reader import Garbage, PduReader
from smsmenu.gateway.smpp_receive import MoReceiver
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import Segment, decode, message_parts

FUZZ = settings(max_examples=max(200, settings.default.max_examples), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
COMMAND_IDS = [*command_codes.commands.values(), 0x111, 0x10200, 0x999, 0x8000_0999]
SAR_AND_PAYLOAD = [0x020C, 0x020E, 0x020F, 0x0424, 0x001E, 0x0427, 0x1401]
"""sar_msg_ref_num, sar_total_segments, sar_segment_seqnum, message_payload,
receipted_message_id, message_state, a vendor TLV."""

tlvs = st.lists(st.tuples(st.sampled_from(SAR_AND_PAYLOAD), st.binary(max_size=300)), max_size=4)
framed = st.builds(
    lambda cid, status, seq, body: struct.pack(">LLLL", HEADER + len(body), cid, status, seq) + body,
    st.sampled_from(COMMAND_IDS), st.integers(0, 0xFFFF_FFFF), st.integers(0, 0xFFFF_FFFF),
    st.binary(max_size=600),
)  # fmt: skip


@st.composite
def deliver_sms(draw: st.DrawFn) -> bytes:
    """A deliver_sm of arbitrary fields and TLVs, maybe cut short or with a byte changed."""
    fields = {
        "source_addr": draw(st.text(st.characters(codec="latin-1"), max_size=21)),
        "esm_class": draw(st.integers(0, 255)), "data_coding": draw(st.integers(0, 255)),
        "short_message": draw(st.binary(max_size=254)),
    }  # fmt: skip
    extra = dict(draw(tlvs))
    frame = encode(make("deliver_sm", Sequence(), **fields), extra)
    cut = draw(st.integers(0, len(frame)))
    if draw(st.booleans()):  # keep the frame whole but change one octet of its body
        at = draw(st.integers(HEADER, len(frame) - 1))
        frame = frame[:at] + bytes([draw(st.integers(0, 255))]) + frame[at + 1 :]
        cut = len(frame)
    frame = frame[:cut]
    return struct.pack(">L", len(frame)) + frame[4:] if len(frame) >= 4 else frame


class Session:
    """Counts the answers of the receiver."""

    name = "fuzz"

    def __init__(self) -> None:
        self.answers = 0

    def respond(self, pdu: Pdu, status: int = ROK, **fields: Any) -> None:
        self.answers += 1

    def nack(self, sequence: int, status: int) -> None:
        self.answers += 1


async def menu(inbound: Inbound) -> list[Reply]:
    """Only texts from a phone number, as digits, reach the menu."""
    assert inbound.msisdn.isdigit()
    return []


class Book:
    """A receipt sink taken without waiting (as ``ReceiptBook``)."""

    def note(self, message_id: str, stat: str, raw: str) -> bool:
        return True

    async def __call__(self, message_id: str, stat: str, raw: str) -> None:
        raise AssertionError("never awaited")


def read_fully(pdu: Pdu) -> None:
    """Every inbound decoder on a parsed PDU; none may raise."""
    segment, payload = message_parts(pdu)
    assert isinstance(decode(payload, pdu.data_coding or 0), str)
    if is_receipt(pdu.esm_class):
        parse_receipt(pdu)
    if segment is not None:
        Reassembler().add("1", segment, pdu.data_coding or 0, payload)


@FUZZ
@given(st.one_of(st.binary(max_size=2000), framed, deliver_sms()))
def test_parse_raises_only_pdu_error(frame: bytes) -> None:
    """Any bytes parse into a PDU whose fields every decoder reads, or raise PduError."""
    try:
        pdu = parse(frame)
    except PduError:
        return
    if pdu.command in ("deliver_sm", "submit_sm", "data_sm"):
        read_fully(pdu)


@FUZZ
@given(deliver_sms())
def test_receiver_answers_every_deliver_sm_once(frame: bytes) -> None:
    """The receiver answers each readable deliver_sm exactly once and never raises."""
    try:
        pdu = parse(frame)
    except PduError:
        return

    async def run(session: Session, receiver: MoReceiver) -> None:
        # as the session does: answered in the reading turn, or else by the task
        if not receiver.inline(cast(SmppSession, session), pdu):
            await receiver(cast(SmppSession, session), pdu)
        receiver.close()

    for receipts in (None, Book()):
        session = Session()
        asyncio.run(run(session, MoReceiver(FunctionHandler(menu), on_receipt=receipts)))
        assert session.answers == 1


@FUZZ
@given(st.lists(st.binary(max_size=300), max_size=8), st.lists(framed, max_size=3))
def test_reader_ends_and_frames_only_whole_pdus(chunks: list[bytes], frames: list[bytes]) -> None:
    """Over any byte stream the reader returns whole frames or garbage, then the end: no hang."""
    data = b"".join(chunks[:4]) + b"".join(frames) + b"".join(chunks[4:])

    async def run() -> list[bytes | Garbage]:
        stream = asyncio.StreamReader()
        stream.feed_data(data)
        stream.feed_eof()
        reader, items = PduReader(stream), []
        for _ in range(len(data) + 1):  # each item takes at least one byte: this always ends
            try:
                items.append(await reader.read())
            except ConnectionResetError:
                return items
        raise AssertionError("the reader returned more items than there were bytes")

    items = asyncio.run(run())
    for item in items:
        if isinstance(item, bytes):
            assert HEADER <= len(item) == int.from_bytes(item[:4], "big") <= MAX_PDU
        else:
            assert item.skipped > 0
    assert sum(len(i) if isinstance(i, bytes) else i.skipped for i in items) <= len(data)


@FUZZ
@given(st.binary(max_size=600), st.integers(0, 255))
def test_decode_reads_any_octets_in_any_coding(data: bytes, data_coding: int) -> None:
    """Every data_coding names a way to read, and any octets decode without an error."""
    assert charset(data_coding)
    assert isinstance(decode(data, data_coding), str)


parts = st.tuples(
    st.sampled_from(["18900000001", "18900000002", "18900000003"]), st.integers(0, 3),
    st.integers(0, 20), st.integers(0, 20), st.integers(0, 3000),
)  # fmt: skip


@FUZZ
@given(st.lists(parts, max_size=60))
def test_reassembler_stays_within_its_bounds(feed: list[tuple[str, int, int, int, int]]) -> None:
    """Whatever parts arrive, the buffers keep their bounds and account their octets exactly."""
    limits = Limits(total_bytes=8000, messages=6, per_source=3)
    buf = Reassembler(limits=limits)
    for source, ref, total, seqnum, size in feed:
        whole = buf.add(source, Segment(ref, total, seqnum), 0, b"a" * size)
        if whole is not None:
            buf.done(source, Segment(ref, total, seqnum))
        assert buf.held <= limits.total_bytes and len(buf) <= limits.messages
    assert buf.held == sum(len(p) for q in buf._pending.values() for p in q.parts.values())
