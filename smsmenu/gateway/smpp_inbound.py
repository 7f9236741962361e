"""Reading what an SMSC delivers: the kind of deliver_sm (esm_class), delivery receipts parsed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from smsmenu.gateway.smpp_codec import text_field
from smsmenu.gateway.smpp_reassembly import Limits, Reassembler

__all__ = [
    "Limits", "Reassembler", "Receipt", "is_notification", "is_receipt", "notice_kind",
    "parse_receipt",
]  # fmt: skip

RECEIPT_MASK = 0x3C
"""esm_class message-type bits (SMPP 3.4 §5.2.12): 0 a short message, anything else a notice."""
RECEIPT = 0x04
"""SMSC delivery receipt."""
NOTICES = {0x04: "delivery receipt", 0x08: "SME delivery acknowledgement",
           0x10: "SME manual/user acknowledgement", 0x18: "conversation abort",
           0x20: "intermediate delivery notification"}  # fmt: skip
MESSAGE_STATES = {
    1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED",
    5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD",
}  # fmt: skip
_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err|text):(\S*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Receipt:
    """An SMSC delivery receipt for a message we submitted."""

    message_id: str
    stat: str
    err: str
    done_date: str
    text: str


def is_receipt(esm_class: int | None) -> bool:
    return ((esm_class or 0) & RECEIPT_MASK) == RECEIPT


def is_notification(esm_class: int | None) -> bool:
    """A receipt, an acknowledgement or a notification: never a text for the menu."""
    return ((esm_class or 0) & RECEIPT_MASK) != 0


def notice_kind(esm_class: int | None) -> str:
    """The message type of a deliver_sm, for logs."""
    bits = (esm_class or 0) & RECEIPT_MASK
    return NOTICES.get(bits, f"message type 0x{bits:02X}") if bits else "short message"


def parse_receipt(pdu: Any) -> Receipt:
    """``id:... stat:DELIVRD err:000 done date:...``; TLVs win over the text when present."""
    raw = (pdu.short_message or pdu.message_payload or b"").decode("latin-1")
    found = {k.lower(): v for k, v in _FIELD.findall(raw)}
    message_id = text_field(pdu.receipted_message_id) or found.get("id", "")
    stat = found.get("stat", "")
    if pdu.message_state is not None:
        stat = MESSAGE_STATES.get(pdu.message_state, stat or "UNKNOWN")
    return Receipt(message_id, stat.upper(), found.get("err", ""), found.get("done date", ""), raw)
