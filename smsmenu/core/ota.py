"""TS 102 225 secured command packets for the 空中充值 card's menu: built by push-menu, checked by the card.

The SMS-PP user data is a user data header ``02 70 00`` (IEI 0x70: a command packet follows,
TS 31.115) then the command packet::

    CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) CNTR(5) PCNTR(1) CC(8) | secured data

``SPI`` ``12 00``: a cryptographic checksum, no ciphering, the counter must be higher than the
card's (b5b4 = 10), no proof of receipt. ``KID`` ``13``: key version 1, an algorithm agreed
between the parties (b2b1 = 11): the CC is HMAC-SHA256 truncated to 8 bytes, over CPL through
PCNTR and the secured data, with the card's own key. Each card's key is derived from the
server's secret (``card_key``): whoever holds that secret (the server box) may update cards,
nobody else. The secured data is a menu patch (TOML laid over the card's menu): ``01`` and the
patch zlib-compressed, or ``02`` and the patch as it is, whichever is shorter. The whole user
data must fit one CDMA SMS (``MAX_USER_DATA``): an update renames or adds a few entries.
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from dataclasses import dataclass
from enum import IntEnum

UDH = bytes([0x02, 0x70, 0x00])
SPI = bytes([0x12, 0x00])
KIC, KID = 0x00, 0x13
TAR = bytes([0xC0, 0x00, 0x01])
"""The 空中充值 applet's toolkit application reference."""
CC_LEN = 8
CHL = 2 + 1 + 1 + 3 + 5 + 1 + CC_LEN
ZLIB, PLAIN = 0x01, 0x02
"""Secured data formats: a zlib-compressed or a plain menu patch."""
MAX_USER_DATA = 230
"""Octets of UDH and packet that fit one CDMA SMS's user data beside its other subparameters."""


class Status(IntEnum):
    """Response status codes of TS 102 225 (the card's proof-of-receipt codes)."""

    OK = 0x00
    CC_FAILED = 0x01
    CNTR_LOW = 0x02
    SECURITY_ERROR = 0x06
    TAR_UNKNOWN = 0x09
    INSUFFICIENT_SECURITY = 0x0A


class TooLong(ValueError):
    """A menu patch whose packet does not fit one SMS."""


class OtaRefused(ValueError):
    def __init__(self, status: Status, why: str) -> None:
        super().__init__(f"{status.name}: {why}")
        self.status = status


@dataclass(frozen=True)
class Packet:
    """A verified command packet: its counter and the menu TOML it carries."""

    counter: int
    menu: str


def card_key(secret: bytes, card: str) -> bytes:
    """The OTA key of one card, derived from the server's secret and the card's id."""
    return hmac.new(secret, b"smsmenu-ota:" + card.upper().encode(), hashlib.sha256).digest()[:16]


def _cc(key: bytes, header: bytes, data: bytes) -> bytes:
    return hmac.new(key, header + data, hashlib.sha256).digest()[:CC_LEN]


def build(key: bytes, counter: int, menu: str) -> bytes:
    """The SMS-PP user data (UDH and command packet) carrying ``menu`` under ``counter``;
    ``TooLong`` when it does not fit one SMS."""
    raw = menu.encode("utf-8")
    packed = zlib.compress(raw, 9)
    data = bytes([ZLIB]) + packed if len(packed) < len(raw) else bytes([PLAIN]) + raw
    if len(UDH) + 2 + 1 + CHL + len(data) > MAX_USER_DATA:
        raise TooLong(f"the update takes {len(UDH) + 3 + CHL + len(data)} octets, more than "
                      f"the {MAX_USER_DATA} of one SMS: send fewer changes at a time")
    cpl = 1 + CHL + len(data)
    head = (cpl.to_bytes(2, "big") + bytes([CHL]) + SPI + bytes([KIC, KID]) + TAR
            + counter.to_bytes(5, "big") + b"\x00")
    return UDH + head + _cc(key, head, data) + data


def verify(key: bytes, user_data: bytes, newest: int) -> Packet:
    """The packet if its CC is right and its counter above ``newest``; ``OtaRefused`` if not."""
    if user_data[:3] != UDH:
        raise OtaRefused(Status.SECURITY_ERROR, "no command packet header (IEI 0x70)")
    p = user_data[3:]
    cpl, chl = int.from_bytes(p[:2], "big"), p[2]
    if chl != CHL or len(p) != 2 + cpl or len(p) <= 16 + CC_LEN:
        raise OtaRefused(Status.SECURITY_ERROR, f"lengths CPL {cpl} CHL {chl}")
    spi, kid, tar = p[3:5], p[6], p[7:10]
    if tar != TAR:
        raise OtaRefused(Status.TAR_UNKNOWN, f"TAR {tar.hex()}")
    if spi != SPI or kid != KID:
        raise OtaRefused(Status.INSUFFICIENT_SECURITY, f"SPI {spi.hex()} KID {kid:02x}")
    head, cc, data = p[:16], p[16:16 + CC_LEN], p[16 + CC_LEN:]
    if not hmac.compare_digest(cc, _cc(key, head, data)):
        raise OtaRefused(Status.CC_FAILED, "cryptographic checksum does not match")
    counter = int.from_bytes(p[10:15], "big")
    if counter <= newest:
        raise OtaRefused(Status.CNTR_LOW, f"counter {counter} not above {newest}")
    try:
        body = zlib.decompress(data[1:]) if data[0] == ZLIB else data[1:]
        if data[0] not in (ZLIB, PLAIN):
            raise ValueError(f"secured data format {data[0]:02x}")
        return Packet(counter, body.decode("utf-8"))
    except (zlib.error, ValueError) as exc:
        raise OtaRefused(Status.SECURITY_ERROR, str(exc)) from None


ARMOR = "//UTK-OTA "
"""How the packet rides the text-only outbox and SMPP leg: this prefix, then its hex."""


def armor(user_data: bytes) -> str:
    return ARMOR + user_data.hex().upper()


def unarmor(text: str) -> bytes | None:
    """The packet of an armored text; None for any other text."""
    if not text.startswith(ARMOR):
        return None
    try:
        return bytes.fromhex(text[len(ARMOR):].strip())
    except ValueError:
        return None
