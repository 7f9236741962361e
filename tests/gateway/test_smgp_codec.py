"""SMGP 3.0 codec against byte layouts written out by hand from the protocol text (issue 14)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from smsmenu.gateway.smgp_codec import (
    MAX_PACKET,
    PacketError,
    Tag,
    frame,
    read_length,
    split_frame,
)
from smsmenu.gateway.smgp_fields import decode_tlvs
from smsmenu.gateway.smgp_packets import (
    Bare,
    Deliver,
    DeliverResp,
    Login,
    LoginResp,
    Submit,
    SubmitResp,
    Unsupported,
    parse,
)
from smsmenu.gateway.smgp_report import (
    REPORT,
    Report,
    client_authenticator,
    msg_id,
    msg_id_text,
    parse_report,
    server_authenticator,
    timestamp,
)
from smsmenu.gateway.smgp_text import Concat, message_parts, split


def z(n: int) -> bytes:
    """``n`` NUL octets (the padding of fixed-width fields)."""
    return b"\0" * n


def pad(text: str, width: int) -> bytes:
    return text.encode("ascii") + z(width - len(text))


def test_header_is_length_request_id_sequence_big_endian() -> None:
    """12 octets: PacketLength (header included), RequestID, SequenceID; ActiveTest has no body."""
    assert frame(0x4, 7) == bytes.fromhex("0000000c" "00000004" "00000007")
    assert frame(0x80000004, 7) == bytes.fromhex("0000000c" "80000004" "00000007")
    assert parse(split_frame(bytes.fromhex("0000000c80000006" "00000009"))) == Bare(0x80000006)


def test_login_layout_and_md5_authenticator() -> None:
    """ClientID 8, AuthenticatorClient 16 = MD5(ClientID + 7 NULs + secret + MMDDHHMMSS),
    LoginMode 1, TimeStamp u32 (the number MMDDHHMMSS), ClientVersion 0x30: 42 octets."""
    stamp = timestamp(dt.datetime(2026, 11, 25, 23, 6, 15))
    assert stamp == 1125230615
    auth = client_authenticator("SP001", "s3cret", stamp)
    assert auth == hashlib.md5(b"SP001" + z(7) + b"s3cret" + b"1125230615").digest()
    wire = frame(0x1, 1, Login("SP001", auth, 2, stamp).body())
    expected = (bytes.fromhex("0000002a" "00000001" "00000001") + b"SP001" + z(3) + auth
                + b"\x02" + (1125230615).to_bytes(4, "big") + b"\x30")  # fmt: skip
    assert wire == expected and len(wire) == 42
    assert parse(split_frame(wire)) == Login("SP001", auth, 2, 1125230615, 0x30)


def test_login_resp_layout_and_server_authenticator() -> None:
    """Status u32, AuthenticatorServer 16 = MD5(Status + AuthenticatorClient + secret),
    ServerVersion 1: 33 octets; a refusal carries status 21."""
    client = bytes(range(16))
    proof = server_authenticator(0, client, "pw")
    assert proof == hashlib.md5(z(4) + client + b"pw").digest()
    wire = frame(0x80000001, 1, LoginResp(0, proof).body())
    assert wire == bytes.fromhex("00000021" "80000001" "00000001" "00000000") + proof + b"\x30"
    refused = bytes.fromhex("00000021" "80000001" "00000005" "00000015") + z(16) + b"\x30"
    assert parse(split_frame(refused)) == LoginResp(21, z(16), 0x30)


def test_submit_layout_free_mt_to_one_number() -> None:
    """MsgType 6, NeedReport, Priority, ServiceID 10, FeeType "00", FeeCode "000000", FixedFee
    6, MsgFormat 8, ValidTime 17, AtTime 17, SrcTermID 21, ChargeTermID 21, DestTermIDCount 1,
    DestTermID 21, MsgLength 1, MsgContent, Reserve 8, then TLVs."""
    content = "你好".encode("utf-16-be")
    submit = Submit("10658", ("15300002222",), content, service_id="RECHARGE",
                    tlvs=((Tag.TP_UDHI, b"\x00"),))  # fmt: skip
    body = (b"\x06\x01\x01" + pad("RECHARGE", 10) + b"00" + b"000000" + pad("000000", 6)
            + b"\x08" + z(17) + z(17) + pad("10658", 21) + z(21) + b"\x01"
            + pad("15300002222", 21) + b"\x04" + content + z(8)
            + bytes.fromhex("0002" "0001" "00"))  # fmt: skip
    assert len(body) == 105 + 21 + 1 + 4 + 8 + 5
    assert submit.body() == body
    assert parse(split_frame(frame(0x2, 3, body))) == submit


def test_submit_resp_msg_id_is_ten_bcd_octets() -> None:
    """MsgID: gateway code (3 BCD), MMDDHHMM (4 BCD), sequence (3 BCD); then Status u32."""
    raw = msg_id(591001, dt.datetime(2026, 11, 25, 23, 6), 42)
    assert raw == bytes.fromhex("591001" "11252306" "000042")
    assert msg_id_text(raw) == "59100111252306000042"
    wire = bytes.fromhex("0000001a" "80000002" "00000003") + raw + bytes.fromhex("00000000")
    assert parse(split_frame(wire)) == SubmitResp(raw, 0)
    assert frame(0x80000002, 3, SubmitResp(raw, 0).body()) == wire


def test_deliver_mo_layout() -> None:
    """MsgID 10, IsReport 1, MsgFormat 1, RecvTime 14, SrcTermID 21, DestTermID 21,
    MsgLength 1, MsgContent, Reserve 8, TLVs: 77 octets besides the content."""
    raw = bytes.fromhex("59100111252306000001")
    body = (raw + b"\x00\x0f" + b"20261125230615" + pad("18900000001", 21) + pad("10658", 21)
            + b"\x02" + "充".encode("gb18030") + z(8))  # fmt: skip
    packet = parse(split_frame(frame(0x3, 9, body)))
    assert packet == Deliver(raw, "18900000001", "10658", "充".encode("gb18030"), msg_format=15,
                             is_report=0, recv_time="20261125230615")
    assert len(body) == 77 + 2
    assert DeliverResp(raw, 0).body() == raw + z(4)


def test_status_report_is_the_fixed_122_octets() -> None:
    """``id:`` + the 10 raw MsgID octets, `` sub:`` 3, `` dlvrd:`` 3, `` Submit date:`` 10,
    `` done date:`` 10, `` stat:`` 7, `` err:`` 3, `` Text:`` 20."""
    raw = bytes.fromhex("59100111252306000042")
    by_hand = (b"id:" + raw + b" sub:001 dlvrd:001 Submit date:2611252306 done date:2611252307"
               b" stat:DELIVRD err:000 Text:" + z(20))  # fmt: skip
    assert len(by_hand) == REPORT == 122
    assert by_hand[75:81] == b" stat:" and by_hand[81:88] == b"DELIVRD"
    report = Report(raw, "DELIVRD", submit_date="2611252306", done_date="2611252307")
    assert report.body() == by_hand
    assert parse_report(by_hand) == Report(raw, "DELIVRD", "000", "001", "001", "2611252306",
                                           "2611252307", b"")  # fmt: skip


def test_status_report_read_by_labels_when_not_122_octets() -> None:
    """A gateway that trims the padding: fields read by their labels, the id still raw."""
    raw = bytes.fromhex("00000111252306000042")
    loose = b"id:" + raw + b" sub:001 dlvrd:000 Submit date:2611252306 done date:2611252307 " \
            b"stat:UNDELIV err:012 Text:"
    report = parse_report(loose)
    assert report is not None and report.msg_id == raw
    assert (report.stat, report.err, report.dlvrd) == ("UNDELIV", "012", "000")
    assert parse_report(b"garbage") is None


def test_unsupported_requests_and_unknown_ids() -> None:
    """Query (0x7) and the others up to 0x12 are read as unsupported; beyond is fatal."""
    assert parse(split_frame(frame(0x7, 1, b"x" * 9))) == Unsupported(0x7)
    with pytest.raises(PacketError) as caught:
        parse(split_frame(frame(0x13, 1)))
    assert caught.value.fatal


def test_hostile_or_short_lengths_are_refused() -> None:
    """A length under 12 or over the bound is fatal before any read of the announced size."""
    for length in (0, 11, MAX_PACKET + 1, 0xFFFFFFFF):
        with pytest.raises(PacketError):
            read_length(length.to_bytes(4, "big"))
    with pytest.raises(PacketError):
        parse(split_frame(frame(0x2, 1, b"\x06\x01")))  # a Submit cut short
    with pytest.raises(PacketError):
        decode_tlvs(bytes.fromhex("0009" "0005" "01"))  # a TLV longer than what is left


def test_long_mt_split_udh_or_tlvs_never_both() -> None:
    """Over 140 octets: parts of at most 134 text octets, with TP_udhi + a 6-octet UDH, or
    PkTotal/PkNumber TLVs and no UDH; the MO side reads either back."""
    text = "充值成功" * 30  # 120 characters: 240 octets in UCS2
    msg_format, parts = split(text, 7)
    assert msg_format == 8 and len(parts) == 2
    assert parts[0].content[:6] == bytes([5, 0, 3, 7, 2, 1]) and parts[1].content[5] == 2
    assert parts[0].tlvs == ((Tag.TP_UDHI, b"\x01"),)
    assert all(len(p.content) <= 140 for p in parts)
    _, tlv_parts = split(text, 7, concat=Concat.TLV)
    assert tlv_parts[1].tlvs == ((Tag.PK_TOTAL, b"\x02"), (Tag.PK_NUMBER, b"\x02"))
    assert all(len(p.content) <= 134 for p in tlv_parts)
    joined = b"".join(message_parts(p.content, p.tlvs)[1] for p in parts)
    assert joined.decode("utf-16-be") == text
    segment, _ = message_parts(tlv_parts[0].content, tlv_parts[0].tlvs)
    assert segment is not None and (segment.total, segment.seqnum) == (2, 1)


def test_ascii_stays_ascii_and_gb18030_when_asked() -> None:
    """ASCII text goes as MsgFormat 0 (140 per message); Chinese as UCS2 or GB18030."""
    assert split("YE*135790", 1) == (0, [split("YE*135790", 1)[1][0]])
    assert split("YE*135790", 1)[1][0].content == b"YE*135790"
    fmt, parts = split("余额", 1, wide=15)
    assert fmt == 15 and parts[0].content == "余额".encode("gb18030")
