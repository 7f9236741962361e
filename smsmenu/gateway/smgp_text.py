"""SMGP text: MsgFormat (ASCII, UCS2, GB18030), long MT split (UDH or PkTotal/PkNumber), MO parts."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from smsmenu.gateway.smgp_codec import Tag
from smsmenu.gateway.smgp_fields import TLVs, tlv_int
from smsmenu.gateway.smpp_text import Segment, read_udh

ASCII, UCS2, GB18030 = 0, 8, 15
"""MsgFormat values of text (SMGP 3.0): 0 ASCII, 8 UCS2, 15 GB18030 (GB2312's successor)."""
CODECS = {ASCII: "ascii", UCS2: "utf-16-be", GB18030: "gb18030"}
SINGLE = 140
"""MsgContent octets of one short message."""
PART = 134
"""Text octets of one part: room for the 6-octet UDH, which the ISMG needs to add when we use
PkTotal/PkNumber instead (so a part is never too long for the handset either way)."""
MAX_PARTS = 255


class Concat(enum.StrEnum):
    """How a long MT's parts say they belong together (never both: that overran handsets)."""

    UDH = "udh"
    """TP_udhi = 1 and a UDH (8-bit reference) at the start of MsgContent."""
    TLV = "tlv"
    """PkTotal and PkNumber TLVs, MsgContent text only."""


@dataclass(frozen=True, slots=True)
class Part:
    """One Submit's MsgContent and the TLVs that go with it."""

    content: bytes
    tlvs: TLVs = ()


def is_text(msg_format: int) -> bool:
    return msg_format in CODECS


def decode(data: bytes, msg_format: int) -> str:
    """The text of a MsgContent; never raises (undecodable octets become U+FFFD)."""
    return data.decode(CODECS.get(msg_format, "latin-1"), errors="replace")


def pick_format(text: str, wide: int = UCS2) -> int:
    """ASCII when every character is, else ``wide`` (UCS2 or GB18030)."""
    return ASCII if text.isascii() else wide


def chunks(text: str, codec: str, size: int) -> list[bytes]:
    """``text`` encoded in pieces of at most ``size`` octets, never inside a character."""
    pieces: list[bytes] = []
    current = bytearray()
    for ch in text:
        raw = ch.encode(codec)
        if len(current) + len(raw) > size:
            pieces.append(bytes(current))
            current = bytearray()
        current += raw
    pieces.append(bytes(current))
    return pieces


def split(text: str, ref: int, *, concat: Concat = Concat.UDH, wide: int = UCS2
          ) -> tuple[int, list[Part]]:  # fmt: skip
    """``(msg_format, parts)`` for ``text``: one part when it fits 140 octets."""
    msg_format = pick_format(text, wide)
    codec = CODECS[msg_format]
    body = text.encode(codec)
    if len(body) <= SINGLE:
        return msg_format, [Part(body)]
    pieces = chunks(text, codec, PART)
    total = len(pieces)
    if total > MAX_PARTS:
        raise ValueError(f"text of {len(text)} characters needs more than {MAX_PARTS} parts")
    parts = []
    for n, piece in enumerate(pieces, start=1):
        if concat == Concat.UDH:
            udh = bytes([5, 0, 3, ref & 0xFF, total, n])
            parts.append(Part(udh + piece, ((Tag.TP_UDHI, b"\x01"),)))
        else:
            parts.append(Part(piece, ((Tag.PK_TOTAL, bytes([total])),
                                      (Tag.PK_NUMBER, bytes([n])))))  # fmt: skip
    return msg_format, parts


def message_parts(content: bytes, tlvs: TLVs) -> tuple[Segment | None, bytes]:
    """Which part of a long message a MsgContent is (UDH when TP_udhi says so, else
    PkTotal/PkNumber, reference 0), and its text octets."""
    if tlv_int(tlvs, Tag.TP_UDHI):
        segment, payload = read_udh(content)
        if segment is not None:
            return segment, payload
        return None, payload
    total, number = tlv_int(tlvs, Tag.PK_TOTAL), tlv_int(tlvs, Tag.PK_NUMBER)
    if total and number and total > 1:
        return Segment(0, total, number), content
    return None, content
