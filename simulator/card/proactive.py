"""Proactive commands (BER-TLV ``D0``) of ETSI TS 102 223 that the 空中充值 applet issues.

Each command is ``D0 len`` then COMPREHENSION-TLVs: command details ``81 03 <number> <type>
<qualifier>``, device identities ``82 02 <source> <destination>``, then the command's own
objects: alpha identifier ``85``, text string ``8D``, item ``8F <id> <text>``, response length
``91 02 <min> <max>``, and for SEND SHORT MESSAGE on a CDMA card the CDMA-SMS TPDU ``48``
(3GPP2 C.S0035) where a 3GPP card has the SMS TPDU ``8B``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from simulator.card import tlv
from simulator.card.coding import alpha, read_alpha, read_text_string, text_string

PROACTIVE = 0xD0
COMMAND_DETAILS, DEVICE_IDENTITIES, RESULT, ALPHA, ADDRESS = 0x81, 0x82, 0x83, 0x85, 0x86
TEXT, ITEM, ITEM_ID, RESPONSE_LENGTH, CDMA_SMS_TPDU = 0x8D, 0x8F, 0x90, 0x91, 0x48


class Kind(IntEnum):
    """Type of command (TS 102 223 table 9.4)."""

    SEND_SMS = 0x13
    DISPLAY_TEXT = 0x21
    GET_INPUT = 0x23
    SELECT_ITEM = 0x24
    SET_UP_MENU = 0x25


class Device(IntEnum):
    """Device identities (TS 102 223 8.7)."""

    KEYPAD = 0x01
    DISPLAY = 0x02
    UICC = 0x81
    TERMINAL = 0x82
    NETWORK = 0x83


WAIT_FOR_USER = 0x80
"""DISPLAY TEXT qualifier bit 8: the text stays until the user clears it."""
NO_ECHO = 0x04
"""GET INPUT qualifier bit 3: hidden entry (a password); bit 1 clear: digits only."""


@dataclass(frozen=True)
class Item:
    id: int
    text: str


@dataclass(frozen=True)
class SetUpMenu:
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class SelectItem:
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class GetInput:
    prompt: str
    min_len: int
    max_len: int
    hidden: bool = False


@dataclass(frozen=True)
class DisplayText:
    text: str


@dataclass(frozen=True)
class SendSms:
    alpha: str
    tpdu: bytes
    """A CDMA-SMS TPDU (``simulator.card.cdma_sms``)."""


Body = SetUpMenu | SelectItem | GetInput | DisplayText | SendSms


@dataclass(frozen=True)
class Proactive:
    """One proactive command: its details (echoed by the terminal response) and its body."""

    number: int
    kind: Kind
    qualifier: int
    body: Body

    @property
    def details(self) -> bytes:
        return bytes([self.number, self.kind, self.qualifier])


def _items(items: tuple[Item, ...]) -> bytes:
    return b"".join(tlv.encode(ITEM, bytes([i.id]) + alpha(i.text)) for i in items)


def command(number: int, body: Body) -> Proactive:
    """The command for ``body`` with its type, qualifier and number."""
    match body:
        case SetUpMenu():
            return Proactive(number, Kind.SET_UP_MENU, 0x00, body)
        case SelectItem():
            return Proactive(number, Kind.SELECT_ITEM, 0x00, body)
        case GetInput():
            return Proactive(number, Kind.GET_INPUT, NO_ECHO if body.hidden else 0x00, body)
        case DisplayText():
            return Proactive(number, Kind.DISPLAY_TEXT, WAIT_FOR_USER, body)
        case SendSms():
            return Proactive(number, Kind.SEND_SMS, 0x00, body)


def encode(cmd: Proactive) -> bytes:
    """The ``D0`` BER-TLV of a proactive command."""
    body = cmd.body
    dest = {Kind.DISPLAY_TEXT: Device.DISPLAY, Kind.SEND_SMS: Device.NETWORK}.get(
        cmd.kind, Device.TERMINAL)
    out = tlv.encode(COMMAND_DETAILS, cmd.details) + tlv.encode(
        DEVICE_IDENTITIES, bytes([Device.UICC, dest]))
    match body:
        case SetUpMenu() | SelectItem():
            out += tlv.encode(ALPHA, alpha(body.title)) + _items(body.items)
        case GetInput():
            out += tlv.encode(TEXT, text_string(body.prompt)) + tlv.encode(
                RESPONSE_LENGTH, bytes([body.min_len, body.max_len]))
        case DisplayText():
            out += tlv.encode(TEXT, text_string(body.text))
        case SendSms():
            out += tlv.encode(ALPHA, alpha(body.alpha)) + tlv.encode(CDMA_SMS_TPDU, body.tpdu)
    return tlv.encode(PROACTIVE, out)


def decode(data: bytes) -> Proactive:
    """A proactive command read back from its bytes (the terminal's side)."""
    objs = tlv.unwrap(data, PROACTIVE)
    by = {o.base: o.value for o in objs}
    number, kind, qualifier = by[COMMAND_DETAILS & 0x7F]
    items = tuple(Item(o.value[0], read_alpha(o.value[1:])) for o in objs if o.base == ITEM & 0x7F)
    title = read_alpha(by.get(ALPHA & 0x7F, b""))
    body: Body
    match Kind(kind):
        case Kind.SET_UP_MENU:
            body = SetUpMenu(title, items)
        case Kind.SELECT_ITEM:
            body = SelectItem(title, items)
        case Kind.GET_INPUT:
            low, high = by[RESPONSE_LENGTH & 0x7F]
            body = GetInput(read_text_string(by[TEXT & 0x7F]), low, high, bool(qualifier & NO_ECHO))
        case Kind.DISPLAY_TEXT:
            body = DisplayText(read_text_string(by[TEXT & 0x7F]))
        case Kind.SEND_SMS:
            body = SendSms(title, by[CDMA_SMS_TPDU])
    return Proactive(number, Kind(kind), qualifier, body)
