"""Reading what an SMSC delivers: concatenated parts reassembled, delivery receipts parsed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smsmenu.gateway.smpp_codec import text_field
from smsmenu.gateway.smpp_text import Segment, decode

RECEIPT_MASK = 0x3C
"""esm_class message-type bits; 0x04 is an SMSC delivery receipt."""
RECEIPT = 0x04
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


def parse_receipt(pdu: Any) -> Receipt:
    """``id:... stat:DELIVRD err:000 done date:...``; TLVs win over the text when present."""
    raw = (pdu.short_message or pdu.message_payload or b"").decode("latin-1")
    found = {k.lower(): v for k, v in _FIELD.findall(raw)}
    message_id = text_field(pdu.receipted_message_id) or found.get("id", "")
    stat = found.get("stat", "")
    if pdu.message_state is not None:
        stat = MESSAGE_STATES.get(pdu.message_state, stat or "UNKNOWN")
    return Receipt(message_id, stat.upper(), found.get("err", ""), found.get("done date", ""), raw)


@dataclass
class _Partial:
    total: int
    data_coding: int
    started: float
    parts: dict[int, bytes] = field(default_factory=dict)


class Reassembler:
    """Buffers parts by (source, reference) until all arrived or ``timeout`` seconds passed."""

    def __init__(self, timeout: float = 120.0, now: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self._now = now
        self._pending: dict[tuple[str, int], _Partial] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def expire(self) -> int:
        """Drop buffers older than the timeout; return how many were dropped."""
        limit = self._now() - self.timeout
        old = [key for key, p in self._pending.items() if p.started < limit]
        for key in old:
            del self._pending[key]
        return len(old)

    def add(self, source: str, segment: Segment, data_coding: int, payload: bytes) -> str | None:
        """Store one part; return the whole text once every part is there.

        The parts stay until ``done()``, so a redelivered last part (after the handler failed)
        completes the message again.
        """
        self.expire()
        if segment.total < 2 or not 1 <= segment.seqnum <= segment.total:
            return decode(payload, data_coding)  # not really a part: read it as it is
        key = (source, segment.ref)
        partial = self._pending.get(key)
        if partial is None or partial.total != segment.total:
            partial = self._pending[key] = _Partial(segment.total, data_coding, self._now())
        partial.parts[segment.seqnum] = payload
        if len(partial.parts) < partial.total:
            return None
        data = b"".join(partial.parts[n] for n in range(1, partial.total + 1))
        return decode(data, partial.data_coding)

    def done(self, source: str, segment: Segment) -> None:
        """The whole message reached the engine: forget its parts."""
        self._pending.pop((source, segment.ref), None)
