"""Property tests of the SMGP decoders: arbitrary bytes never raise anything but PacketError,
hang, or read more than the bound, whatever a length field says."""

from __future__ import annotations

import asyncio
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsmenu.gateway.smgp_codec import (
    HEADER,
    MAX_PACKET,
    PacketError,
    Tag,
    read_frame,
    split_frame,
)
from smsmenu.gateway.smgp_packets import Deliver, parse
from smsmenu.gateway.smgp_report import parse_report
from smsmenu.gateway.smgp_text import decode, message_parts

FUZZ = settings(max_examples=max(200, settings.default.max_examples), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
IDS = [*range(0, 0x14), *(0x8000_0000 | c for c in range(0, 0x14)), 0xFFFF_FFFF]

framed = st.builds(
    lambda cid, seq, body: struct.pack(">LLL", HEADER + len(body), cid, seq) + body,
    st.sampled_from(IDS), st.integers(0, 0xFFFF_FFFF), st.binary(max_size=400),
)  # fmt: skip


@st.composite
def delivers(draw: st.DrawFn) -> bytes:
    """A Deliver of arbitrary fields and TLVs, maybe with one octet changed or cut short."""
    tlvs = tuple(draw(st.lists(st.tuples(st.sampled_from(list(Tag)), st.binary(max_size=4)),
                               max_size=3)))  # fmt: skip
    packet = Deliver(draw(st.binary(min_size=10, max_size=10)),
                     draw(st.text(st.characters(codec="ascii"), max_size=21)), "10658",
                     draw(st.binary(max_size=255)), draw(st.integers(0, 255)),
                     draw(st.integers(0, 1)), tlvs=tlvs)  # fmt: skip
    body = packet.body()
    if body and draw(st.booleans()):
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1 :]
    body = body[: draw(st.integers(0, len(body)))]
    return struct.pack(">LLL", HEADER + len(body), 3, 1) + body


@FUZZ
@given(st.one_of(framed, delivers(), st.binary(max_size=600)))
def test_any_bytes_parse_or_raise_packet_error(data: bytes) -> None:
    """A frame parses to a packet or raises PacketError; a Deliver's parts never raise."""
    try:
        packet = parse(split_frame(data))
    except PacketError:
        return
    if isinstance(packet, Deliver):
        segment, payload = message_parts(packet.content, packet.tlvs)
        assert len(payload) <= len(packet.content)
        decode(payload, packet.msg_format)
        parse_report(packet.content)
        if segment is not None:
            assert segment.total >= 0


@FUZZ
@given(st.integers(0, 0xFFFF_FFFF), st.binary(max_size=64))
def test_a_hostile_length_reads_at_most_the_bound(length: int, tail: bytes) -> None:
    """Whatever PacketLength says, the reader takes at most MAX_PACKET octets off the stream
    (an over-long one is refused from its header alone) and never waits past the data."""

    async def read() -> None:
        stream = asyncio.StreamReader(limit=2 * MAX_PACKET)
        stream.feed_data(struct.pack(">LLL", length, 3, 1) + tail)
        stream.feed_eof()
        try:
            frame = await read_frame(stream)
        except (PacketError, asyncio.IncompleteReadError):
            return
        assert HEADER <= length <= MAX_PACKET and len(frame.body) == length - HEADER

    asyncio.run(read())
