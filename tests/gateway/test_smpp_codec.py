"""Unit tests of the SMPP codec helpers: framing, parsing, text coding, parts, receipts, URLs."""

from __future__ import annotations

import asyncio
import struct

import pytest

from smsmenu.gateway.smpp_codec import (
    MAX_PDU,
    MAX_SEQUENCE,
    RINVCMDID,
    PduError,
    Sequence,
    encode,
    make,
    parse,
    text_field,
)
from smsmenu.gateway.smpp_config import SmppBind, parse_smpp_url
from smsmenu.gateway.smpp_inbound import Reassembler, is_receipt, parse_receipt
from smsmenu.gateway.smpp_reader import Garbage, PduReader
from smsmenu.gateway.smpp_text import (
    GSM7,
    UCS2,
    UDHI,
    Segment,
    decode,
    fits_gsm,
    gsm_decode,
    gsm_encode,
    message_parts,
    read_udh,
    split,
)

CHINESE_300 = ("您的充值已成功到账，感谢使用空中充值业务。" * 15)[:300]


def reader_of(*chunks: bytes) -> PduReader:
    stream = asyncio.StreamReader()
    for chunk in chunks:
        stream.feed_data(chunk)
    stream.feed_eof()
    return PduReader(stream)


def test_sequence_wraps_to_one() -> None:
    """The sequence source counts from 1 and wraps after 0x7FFFFFFF."""
    seq = Sequence(MAX_SEQUENCE - 1)
    assert [seq.next_sequence() for _ in range(3)] == [MAX_SEQUENCE, 1, 2]


def test_response_keeps_the_request_sequence() -> None:
    """A *_resp built with ``sequence=`` carries it (smpplib alone would not)."""
    seq = Sequence(41)
    resp = make("deliver_sm_resp", seq, sequence=7, status=0x64)
    raw = encode(resp)
    assert struct.unpack(">LLLL", raw[:16]) == (len(raw), 0x80000005, 0x64, 7)


def test_submit_sm_round_trip_with_vendor_tlv() -> None:
    """A submit_sm survives encode/parse; strings come back as bytes; vendor TLVs are kept."""
    pdu = make("submit_sm", Sequence(), source_addr="10658", destination_addr="18912345678",
               short_message=b"hi", sar_msg_ref_num=9, sar_total_segments=2, sar_segment_seqnum=1)
    back = parse(encode(pdu, {0x1401: b"carrier-42\0", 0x1500: b"\x01"}))
    assert (back.command, back.sequence) == ("submit_sm", pdu.sequence)
    assert text_field(back.destination_addr) == "18912345678"
    assert back.short_message == b"hi"
    assert (back.sar_msg_ref_num, back.sar_total_segments, back.sar_segment_seqnum) == (9, 2, 1)
    assert back.tlvs[0x1401] == b"carrier-42\0"
    assert back.tlvs[0x1500] == b"\x01"


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        pytest.param(struct.pack(">LLLL", 16, 0x0000_0999, 0, 5), RINVCMDID, id="unknown-command"),
        pytest.param(struct.pack(">LLLL", 16, 0x0000_0007, 0, 5), RINVCMDID, id="replace_sm"),
        pytest.param(struct.pack(">LLLL", 20, 4, 0, 5) + b"\x00\x01\x02\x03", 2, id="truncated"),
        pytest.param(
            encode(make("deliver_sm", Sequence(4), source_addr="18912345678"))[:24],
            2, id="unterminated-string",
        ),
        pytest.param(
            encode(make("deliver_sm", Sequence(4), short_message=b"hello"))[:-2],
            2, id="short-message-cut",
        ),
        pytest.param(
            encode(make("deliver_sm", Sequence(4), short_message=b"x"), {0x1401: b"abc"})[:-1],
            2, id="tlv-cut",
        ),
    ],
)
def test_malformed_frames_raise_pdu_error(frame: bytes, status: int) -> None:
    """Frames that are not PDUs raise PduError with the status and sequence to nack."""
    frame = struct.pack(">L", len(frame)) + frame[4:]
    with pytest.raises(PduError) as caught:
        parse(frame)
    assert caught.value.status == status
    assert caught.value.sequence == 5


async def test_reader_reassembles_frames_split_across_reads() -> None:
    """Frames arrive whole however the bytes were chopped."""
    a = encode(make("enquire_link", Sequence()))
    b = encode(make("submit_sm", Sequence(), short_message=b"x" * 40))
    data = a + b
    reader = reader_of(*(data[i : i + 5] for i in range(0, len(data), 5)))
    assert await reader.read() == a
    assert await reader.read() == b
    with pytest.raises(ConnectionResetError):
        await reader.read()


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"GARBAGE\r\n", id="text"),
        pytest.param(struct.pack(">L", 10_000_000) + b"\x00" * 12, id="absurd-length"),
        pytest.param(struct.pack(">L", 3) + b"\x00\x00\x00\x15", id="too-short"),
    ],
)
async def test_reader_skips_garbage_to_the_next_pdu(garbage: bytes) -> None:
    """Garbage is reported as a count of skipped bytes, then the next real PDU is read."""
    pdu = encode(make("enquire_link", Sequence()))
    reader = reader_of(garbage + pdu)
    skipped = 0
    while isinstance(item := await reader.read(), Garbage):
        skipped += item.skipped
    assert item == pdu
    assert skipped == len(garbage)


@pytest.mark.parametrize(
    ("text", "gsm"),
    [
        pytest.param("Balance 12.50 yuan @home", True, id="ascii"),
        pytest.param("{[~]} €5 \\ ^|", True, id="extension"),
        pytest.param("Ça coûte 5€", False, id="not-gsm"),
        pytest.param("back`tick", False, id="backtick"),
        pytest.param("§ ¿ Ä", True, id="latin-gsm"),
        pytest.param("充值", False, id="chinese"),
    ],
)
def test_gsm_alphabet(text: str, gsm: bool) -> None:
    """Only the GSM 03.38 alphabet (with extension table) is sent as 7-bit."""
    assert fits_gsm(text) is gsm
    if gsm:
        assert gsm_decode(gsm_encode(text)) == text


@pytest.mark.parametrize(
    ("text", "coding", "sizes"),
    [
        pytest.param("1", GSM7, [1], id="one-char"),
        pytest.param("a" * 160, GSM7, [160], id="gsm-160-fits"),
        pytest.param("a" * 161, GSM7, [153, 8], id="gsm-161"),
        pytest.param("a" * 152 + "{" + "b" * 10, GSM7, [152, 12], id="escape-pair-not-split"),
        pytest.param("充" * 70, UCS2, [140], id="ucs2-70-fits"),
        pytest.param(CHINESE_300, UCS2, [134, 134, 134, 134, 64], id="chinese-300"),
        pytest.param("充" * 66 + "😀" + "x" * 5, UCS2, [132, 14], id="surrogate-not-split"),
    ],
)
def test_split_into_parts(text: str, coding: int, sizes: list[int]) -> None:
    """Texts split into UDH parts of at most 153 septets / 67 UCS2 units, joined back exactly."""
    got_coding, esm_class, parts = split(text, ref=0x1A)
    assert got_coding == coding
    assert esm_class == (UDHI if len(parts) > 1 else 0)
    bodies = [read_udh(p)[1] if esm_class else p for p in parts]
    assert [len(b) for b in bodies] == sizes
    if esm_class:
        segments = [read_udh(p)[0] for p in parts]
        assert segments == [Segment(0x1A, len(parts), n) for n in range(1, len(parts) + 1)]
    assert decode(b"".join(bodies), coding) == text


@pytest.mark.parametrize(
    ("text", "first_part"),
    [pytest.param("a" * 200, 152, id="gsm"), pytest.param("充" * 100, 132, id="ucs2")],
)
def test_udh_16bit_reference(text: str, first_part: int) -> None:
    """A 16-bit reference UDH (IEI 0x08) is written and read back; its parts still fit one SMS."""
    coding, _esm, parts = split(text, ref=0x1234, udh16=True)
    assert read_udh(parts[1])[0] == Segment(0x1234, 2, 2)
    assert len(read_udh(parts[0])[1]) == first_part
    assert max(len(p) for p in parts) <= (160 if coding == GSM7 else 140)


def test_message_parts_reads_sar_tlvs() -> None:
    """SAR TLVs mark a part when there is no UDH."""
    pdu = parse(encode(make("deliver_sm", Sequence(), short_message=b"abc", sar_msg_ref_num=300,
                            sar_total_segments=3, sar_segment_seqnum=2)))
    assert message_parts(pdu) == (Segment(300, 3, 2), b"abc")


def test_reassembler_joins_out_of_order_and_expires() -> None:
    """Parts join in order of their number; a buffer older than the timeout is dropped."""
    now = [0.0]
    buf = Reassembler(timeout=10, now=lambda: now[0])
    assert buf.add("189", Segment(7, 3, 3), GSM7, b"c") is None
    assert buf.add("189", Segment(7, 3, 1), GSM7, b"a") is None
    assert buf.add("188", Segment(7, 3, 2), GSM7, b"X") is None
    assert buf.add("189", Segment(7, 3, 2), GSM7, b"b") == "abc"
    buf.done("189", Segment(7, 3, 2))
    now[0] = 11.0
    assert buf.expire() == 1
    assert len(buf) == 0


@pytest.mark.parametrize(
    ("text", "tlvs", "expected"),
    [
        pytest.param("id:0A1B sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 "
                     "stat:DELIVRD err:000 text:hello", {}, ("0A1B", "DELIVRD", "000", "2601011201"),
                     id="text-only"),
        pytest.param("id:x stat:ENROUTE err:000", {"receipted_message_id": "0A1C",
                     "message_state": 5}, ("0A1C", "UNDELIV", "000", ""), id="tlvs-win"),
    ],
)
def test_parse_receipt(text: str, tlvs: dict[str, object], expected: tuple[str, ...]) -> None:
    """Delivery receipts yield id, stat, err and done date."""
    pdu = parse(encode(make("deliver_sm", Sequence(), esm_class=0x04,
                            short_message=text.encode(), **tlvs)))
    assert is_receipt(pdu.esm_class)
    receipt = parse_receipt(pdu)
    assert (receipt.message_id, receipt.stat, receipt.err, receipt.done_date) == expected


def test_parse_smpp_url() -> None:
    """smpp:// URLs give a bind; query keys set other fields; the password stays out of repr."""
    bind = parse_smpp_url("smpp://rech%40ct:s3cret@smsc.example:2776?system_type=VMA&window=20")
    assert bind == SmppBind("rech@ct", "s3cret", "smsc.example", 2776, system_type="VMA", window=20)
    assert "s3cret" not in repr(bind)
    assert parse_smpp_url("smpp://a:b@h").port == 2775
    with pytest.raises(ValueError):
        parse_smpp_url("http://a:b@h:1")
    with pytest.raises(ValueError):
        parse_smpp_url("smpp://a:b@h:1?colour=red")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(struct.pack(">LLLL", MAX_PDU + 1, 0x05, 0, 77), Garbage(16, 77), id="oversized"),
        pytest.param(struct.pack(">LLLL", 3, 0x05, 0, 77), Garbage(16, 0), id="undersized"),
        pytest.param(b"\xff" * 16, Garbage(16, 0), id="noise"),
    ],
)
async def test_reader_names_the_sequence_of_an_oversized_pdu(head: bytes, expected: Garbage) -> None:
    """Skipped bytes that began with a readable header of a too-long PDU carry its sequence."""
    pdu = encode(make("enquire_link", Sequence()))
    reader = reader_of(head[:6], head[6:] + pdu)
    assert await reader.read() == expected
    assert await reader.read() == pdu


async def test_reader_frames_an_smpp_command_smpplib_cannot_read() -> None:
    """An SMPP 5.0 broadcast_sm is framed; parsing it names its sequence for generic_nack."""
    frame = struct.pack(">LLLL", 20, 0x111, 0, 78) + b"\0" * 4
    item = await reader_of(frame).read()
    assert item == frame
    with pytest.raises(PduError) as caught:
        parse(frame)
    assert (caught.value.sequence, caught.value.status) == (78, RINVCMDID)
