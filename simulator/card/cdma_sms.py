"""The CDMA SMS transport-layer message (3GPP2 C.S0015) the card sends and receives, bit-packed.

A point-to-point message: ``00``, then parameters ``id len value``: teleservice identifier
``00`` (4098 CMT-95 for text, 4103 CATPT for the card's data download), an address (``04``
destination of an MO, ``02`` origin of an MT: DIGIT_MODE 0, NUMBER_MODE 0, NUM_FIELDS, 4-bit
DTMF digits), and bearer data ``08`` with its subparameters: message identifier ``00``
(MESSAGE_TYPE 4 bits, MESSAGE_ID 16, HEADER_IND 1, 3 reserved) and user data ``01``
(MSG_ENCODING 5 bits, NUM_FIELDS 8, the characters, zero padding to the octet).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

CMT95, CATPT = 4098, 4103
DELIVER, SUBMIT = 1, 2
OCTET, ASCII7, UNICODE = 0x00, 0x02, 0x04
_DTMF = "D1234567890*#"
"""DTMF digit codes: 1-9 are themselves, 0 is 10, * 11 and # 12 (index in this string)."""


class Param(IntEnum):
    TELESERVICE = 0x00
    ORIGIN = 0x02
    DESTINATION = 0x04
    BEARER_DATA = 0x08


class _Bits:
    """Big-endian bit packing, padded with zero bits to whole octets."""

    def __init__(self, data: bytes = b"") -> None:
        self.bits = "".join(f"{b:08b}" for b in data)
        self.pos = 0

    def put(self, value: int, width: int) -> _Bits:
        self.bits += f"{value:0{width}b}"
        return self

    def take(self, width: int) -> int:
        value = int(self.bits[self.pos:self.pos + width], 2)
        self.pos += width
        return value

    def octets(self) -> bytes:
        bits = self.bits + "0" * (-len(self.bits) % 8)
        return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


@dataclass(frozen=True)
class Message:
    """One CDMA SMS: ``text`` (7-bit ASCII or UCS2 user data) or ``data`` (octets)."""

    teleservice: int
    address: str
    message_type: int
    message_id: int
    text: str = ""
    data: bytes = b""
    header: bool = False
    """HEADER_IND: the user data opens with a user data header (the OTA packet's IEI 0x70)."""


def _param(pid: int, value: bytes) -> bytes:
    return bytes([pid, len(value)]) + value


def _address(digits: str) -> bytes:
    bits = _Bits().put(0, 1).put(0, 1).put(len(digits), 8)
    for d in digits:
        bits.put(_DTMF.index(d), 4)
    return bits.octets()


def _user_data(msg: Message) -> bytes:
    if msg.data:
        bits = _Bits().put(OCTET, 5).put(len(msg.data), 8)
        for b in msg.data:
            bits.put(b, 8)
    elif msg.text.isascii():
        bits = _Bits().put(ASCII7, 5).put(len(msg.text), 8)
        for c in msg.text:
            bits.put(ord(c), 7)
    else:
        units = msg.text.encode("utf-16-be")
        bits = _Bits().put(UNICODE, 5).put(len(units) // 2, 8)
        for i in range(0, len(units), 2):
            bits.put(int.from_bytes(units[i:i + 2], "big"), 16)
    return bits.octets()


def encode(msg: Message) -> bytes:
    ident = _Bits().put(msg.message_type, 4).put(msg.message_id, 16).put(int(msg.header), 1)
    bearer = _param(0x00, ident.put(0, 3).octets()) + _param(0x01, _user_data(msg))
    where = Param.DESTINATION if msg.message_type == SUBMIT else Param.ORIGIN
    return (b"\x00" + _param(Param.TELESERVICE, msg.teleservice.to_bytes(2, "big"))
            + _param(where, _address(msg.address)) + _param(Param.BEARER_DATA, bearer))


def _params(data: bytes) -> dict[int, bytes]:
    out, i = {}, 0
    while i + 2 <= len(data):
        out[data[i]] = data[i + 2:i + 2 + data[i + 1]]
        i += 2 + data[i + 1]
    return out


def decode(tpdu: bytes) -> Message:
    if tpdu[:1] != b"\x00":
        raise ValueError(f"SMS_MSG_TYPE {tpdu[:1].hex()}: only point-to-point is handled")
    params = _params(tpdu[1:])
    addr = _Bits(params.get(Param.DESTINATION) or params[Param.ORIGIN])
    addr.take(2)
    digits = "".join(_DTMF[addr.take(4)] for _ in range(addr.take(8)))
    sub = _params(params[Param.BEARER_DATA])
    ident = _Bits(sub[0x00])
    kind, number, header = ident.take(4), ident.take(16), bool(ident.take(1))
    user = _Bits(sub[0x01])
    encoding, count = user.take(5), user.take(8)
    teleservice = int.from_bytes(params[Param.TELESERVICE], "big")
    if encoding == OCTET:
        data = bytes(user.take(8) for _ in range(count))
        return Message(teleservice, digits, kind, number, data=data, header=header)
    width = 7 if encoding == ASCII7 else 16
    text = "".join(chr(user.take(width)) for _ in range(count))
    return Message(teleservice, digits, kind, number, text=text, header=header)
