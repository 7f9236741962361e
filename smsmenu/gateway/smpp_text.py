"""SMS text coding: GSM 7-bit or UCS2, splitting into UDH-concatenated parts, reading UDH/SAR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smpplib import consts, gsm

from smsmenu.gateway.smpp_coding import BINARY, GSM, UNREADABLE, charset

GSM7 = consts.SMPP_ENCODING_DEFAULT
LATIN1 = consts.SMPP_ENCODING_ISO88591
UCS2 = consts.SMPP_ENCODING_ISO10646
UDHI = consts.SMPP_GSMFEAT_UDHI
ESCAPE = 0x1B

# smpplib's table has "`" where GSM 03.38 has "§" (0x5F) and "`" as filler: fix both here.
_BASIC = gsm.GSM_CHARACTER_TABLE[:0x5F] + "§" + gsm.GSM_CHARACTER_TABLE[0x60:0x80]
_TO_GSM = {ch: bytes([i]) for i, ch in enumerate(_BASIC) if i != ESCAPE}
_TO_GSM.update(
    {ch: bytes([ESCAPE, i]) for i, ch in enumerate(gsm.GSM_CHARACTER_TABLE[0x80:]) if ch != "`"}
)
_TO_GSM["\f"] = bytes([ESCAPE, 0x0A])
_FROM_GSM = {code: ch for ch, code in _TO_GSM.items()}

SINGLE = {GSM7: 160, UCS2: 70}
"""Characters (septets / UTF-16 units) that fit one SMS."""
PART = {GSM7: 153, UCS2: 67}
"""Characters per part once a 6-byte concatenation UDH takes its room."""


@dataclass(frozen=True, slots=True)
class Segment:
    """Which part of which concatenated message a short_message is."""

    ref: int
    total: int
    seqnum: int


def part_size(data_coding: int, udh16: bool = False) -> int:
    """Units per part; a 16-bit-reference UDH is one octet longer and costs one more unit."""
    return PART[data_coding] - (1 if udh16 else 0)


def fits_gsm(text: str) -> bool:
    return all(ch in _TO_GSM for ch in text)


def gsm_encode(text: str) -> bytes:
    """Unpacked septets, one octet each; extension characters as ESC + code."""
    return b"".join(_TO_GSM[ch] for ch in text)


def gsm_decode(data: bytes) -> str:
    out, escaped = [], False
    for octet in data:
        if escaped:
            out.append(_FROM_GSM.get(bytes([ESCAPE, octet]), " "))
            escaped = False
        elif octet == ESCAPE:
            escaped = True
        else:
            out.append(_FROM_GSM.get(bytes([octet & 0x7F]), "?"))
    return "".join(out)


def encode(text: str, data_coding: int) -> bytes:
    return gsm_encode(text) if data_coding == GSM7 else text.encode("utf-16-be")


def decode(data: bytes, data_coding: int) -> str:
    """Text of a short message read as its data_coding says (``smpp_coding``); never raises.

    Data that is not text (8-bit, compressed, pictograms) comes back as Latin-1, for logs.
    """
    name = charset(data_coding)
    if name == GSM:
        return gsm_decode(data)
    if name in (BINARY, UNREADABLE):
        return data.decode("latin-1")
    return data.decode(name, errors="replace")


def _cost(ch: str, data_coding: int) -> int:
    if data_coding == GSM7:
        return len(_TO_GSM[ch])
    return 2 if ord(ch) > 0xFFFF else 1


def chunks(text: str, data_coding: int, size: int) -> list[str]:
    """Split into pieces of at most ``size`` units, never inside a surrogate pair or ESC pair."""
    pieces: list[str] = []
    start, used = 0, 0
    for i, ch in enumerate(text):
        cost = _cost(ch, data_coding)
        if used + cost > size:
            pieces.append(text[start:i])
            start, used = i, 0
        used += cost
    pieces.append(text[start:])
    return pieces


def split(text: str, ref: int, udh16: bool = False) -> tuple[int, int, list[bytes]]:
    """``(data_coding, esm_class, short_messages)`` for ``text``, with UDHs when it needs parts."""
    coding = GSM7 if fits_gsm(text) else UCS2
    body = encode(text, coding)  # units: one octet per septet, two per UTF-16 code unit
    if len(body) // (1 if coding == GSM7 else 2) <= SINGLE[coding]:
        return coding, 0, [body]
    pieces = chunks(text, coding, part_size(coding, udh16))
    if len(pieces) > 255:
        raise ValueError(f"text of {len(text)} characters needs more than 255 parts")
    out = []
    for n, piece in enumerate(pieces, start=1):
        if udh16:
            udh = bytes([6, 8, 4, (ref >> 8) & 0xFF, ref & 0xFF, len(pieces), n])
        else:
            udh = bytes([5, 0, 3, ref & 0xFF, len(pieces), n])
        out.append(udh + encode(piece, coding))
    return coding, UDHI, out


def read_udh(short_message: bytes) -> tuple[Segment | None, bytes]:
    """The concatenation IE (8- or 16-bit reference) of a UDH, and the payload after the UDH."""
    if not short_message:
        return None, b""
    end = 1 + short_message[0]
    udh, payload = short_message[1:end], short_message[end:]
    pos, segment = 0, None
    while pos + 2 <= len(udh):
        iei, length = udh[pos], udh[pos + 1]
        value = udh[pos + 2 : pos + 2 + length]
        if iei == 0x00 and len(value) == 3:
            segment = Segment(value[0], value[1], value[2])
        elif iei == 0x08 and len(value) == 4:
            segment = Segment(int.from_bytes(value[:2], "big"), value[2], value[3])
        pos += 2 + length
    return segment, payload


def message_parts(pdu: Any) -> tuple[Segment | None, bytes]:
    """Segment (UDH, else SAR TLVs) and payload of a deliver_sm/submit_sm (data_sm: payload)."""
    body = getattr(pdu, "short_message", None) or pdu.message_payload or b""
    if (pdu.esm_class or 0) & UDHI:
        segment, body = read_udh(body)
        if segment is not None:
            return segment, body
    if pdu.sar_msg_ref_num is not None and pdu.sar_total_segments and pdu.sar_segment_seqnum:
        seg = Segment(pdu.sar_msg_ref_num, pdu.sar_total_segments, pdu.sar_segment_seqnum)
        return seg, body
    return None, body
