"""What the handset sends the card: TERMINAL RESPONSE and the ENVELOPEs (TS 102 223 6.8, 7).

TERMINAL RESPONSE: command details ``81 03`` (echoed), device identities ``82 02 82 81``
(terminal to UICC), result ``83 01 <general result>``, then the command's answer: the text
string ``8D`` of GET INPUT or the item identifier ``90 01`` of SELECT ITEM. ENVELOPE MENU
SELECTION: ``D3 len 82 02 01 81 90 01 <item>`` (keypad to UICC). ENVELOPE SMS-PP DATA DOWNLOAD:
``D1 len 82 02 83 81`` (network to UICC) and the TPDU: ``48`` CDMA-SMS (C.S0035) on a CDMA card.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from simulator.card import tlv
from simulator.card.coding import read_text_string, text_string
from simulator.card.proactive import (
    CDMA_SMS_TPDU,
    COMMAND_DETAILS,
    DEVICE_IDENTITIES,
    ITEM_ID,
    RESULT,
    TEXT,
    Device,
)

MENU_SELECTION, SMS_PP_DOWNLOAD = 0xD3, 0xD1


class Result(IntEnum):
    """General results used here (TS 102 223 8.12)."""

    OK = 0x00
    TERMINATED = 0x10
    """Proactive UICC session terminated by the user (the handset's exit key)."""
    BACKWARD = 0x11
    """Backward move in the proactive UICC session requested by the user (the back key)."""
    NO_RESPONSE = 0x12
    """No response from user (the handset's timeout)."""


@dataclass(frozen=True)
class TerminalResponse:
    details: bytes
    result: Result
    text: str | None = None
    item: int | None = None


def encode_response(tr: TerminalResponse) -> bytes:
    """The terminal response's TLVs (it has no template tag: the TERMINAL RESPONSE APDU body)."""
    out = (tlv.encode(COMMAND_DETAILS, tr.details)
           + tlv.encode(DEVICE_IDENTITIES, bytes([Device.TERMINAL, Device.UICC]))
           + tlv.encode(RESULT, bytes([tr.result])))
    if tr.text is not None:
        out += tlv.encode(TEXT, text_string(tr.text))
    if tr.item is not None:
        out += tlv.encode(ITEM_ID, bytes([tr.item]))
    return out


def decode_response(data: bytes) -> TerminalResponse:
    by = {o.base: o.value for o in tlv.parse(data)}
    text = by.get(TEXT & 0x7F)
    item = by.get(ITEM_ID & 0x7F)
    return TerminalResponse(by[COMMAND_DETAILS & 0x7F], Result(by[RESULT & 0x7F][0]),
                            None if text is None else read_text_string(text),
                            None if item is None else item[0])


def menu_selection(item: int) -> bytes:
    """ENVELOPE (MENU SELECTION) for an item of the SET UP MENU list."""
    return tlv.encode(MENU_SELECTION, tlv.encode(
        DEVICE_IDENTITIES, bytes([Device.KEYPAD, Device.UICC])) + tlv.encode(ITEM_ID, bytes([item])))


def read_menu_selection(data: bytes) -> int:
    by = {o.base: o.value for o in tlv.unwrap(data, MENU_SELECTION)}
    return by[ITEM_ID & 0x7F][0]


def sms_pp_download(tpdu: bytes) -> bytes:
    """ENVELOPE (SMS-PP DATA DOWNLOAD) of a CDMA card: the CDMA-SMS TPDU under tag 0x48."""
    return tlv.encode(SMS_PP_DOWNLOAD, tlv.encode(
        DEVICE_IDENTITIES, bytes([Device.NETWORK, Device.UICC])) + tlv.encode(CDMA_SMS_TPDU, tpdu))


def read_sms_pp_download(data: bytes) -> bytes:
    by = {o.base: o.value for o in tlv.unwrap(data, SMS_PP_DOWNLOAD)}
    return by[CDMA_SMS_TPDU]
