"""Simulated handsets of the SMSC simulator: send MO texts (split when asked), keep an MT inbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Literal

from smsmenu.gateway.smpp_text import (
    GSM7,
    SINGLE,
    UCS2,
    UDHI,
    chunks,
    encode,
    fits_gsm,
    part_size,
)

Concat = Literal["udh8", "udh16", "sar"]
_refs = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Received:
    """One MT text as the handset shows it (parts already joined)."""

    sender: str
    text: str
    at: dt.datetime
    message_ids: tuple[str, ...] = ()


@dataclass
class MoTicket:
    """One MO text on its way to the ESME; ``delivered()`` waits until every part was acked."""

    parts: int
    attempts: int = 0
    """deliver_sm sent for this text, counting every part and every redelivery."""
    acked_parts: int = 0
    _done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def redelivered(self) -> int:
        return self.attempts - self.parts

    def part_acked(self) -> None:
        self.acked_parts += 1
        if self.acked_parts >= self.parts:
            self._done.set()

    async def delivered(self) -> None:
        await self._done.wait()


@dataclass
class MoItem:
    """One deliver_sm waiting in a handset's queue (a part of an MO text, or a receipt)."""

    fields: dict[str, object]
    tlvs: dict[int, bytes]
    ticket: MoTicket


def mo_fields(
    text: str, concat: Concat | None = None, parts: int | None = None
) -> list[dict[str, object]]:
    """deliver_sm fields of each part: one when it fits, else UDH (8/16-bit ref) or SAR parts."""
    coding = GSM7 if fits_gsm(text) else UCS2
    if parts is None:
        if len(encode(text, coding)) <= SINGLE[coding] * (1 if coding == GSM7 else 2):
            return [{"data_coding": coding, "short_message": encode(text, coding)}]
        pieces = chunks(text, coding, part_size(coding, concat == "udh16"))
    else:
        size = -(-len(text) // parts)
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
    ref, total, out = next(_refs), len(pieces), []
    for n, piece in enumerate(pieces, start=1):
        body = encode(piece, coding)
        if concat == "sar":
            out.append({"data_coding": coding, "short_message": body, "sar_msg_ref_num": ref,
                        "sar_total_segments": total, "sar_segment_seqnum": n})  # fmt: skip
            continue
        if concat == "udh16":
            udh = bytes([6, 8, 4, ref >> 8 & 0xFF, ref & 0xFF, total, n])
        else:
            udh = bytes([5, 0, 3, ref & 0xFF, total, n])
        out.append({"data_coding": coding, "esm_class": UDHI, "short_message": udh + body})
    return out


class Handset:
    """A phone on the simulated network: ``await send("1")``, ``await receive()``, ``inbox``."""

    def __init__(self, msisdn: str, service: str) -> None:
        self.msisdn = msisdn
        self.service = service
        self.inbox: list[Received] = []
        self.queue: asyncio.Queue[MoItem] = asyncio.Queue()
        self._unread: asyncio.Queue[Received] = asyncio.Queue()

    async def send(
        self,
        text: str,
        *,
        to: str | None = None,
        concat: Concat | None = None,
        parts: int | None = None,
        tlvs: dict[int, bytes] | None = None,
    ) -> MoTicket:
        """Queue an MO text to ``to`` (the service number); ``parts`` forces that many parts."""
        address = {"source_addr": self.msisdn, "destination_addr": to or self.service}
        pieces = mo_fields(text, concat, parts)
        ticket = MoTicket(parts=len(pieces))
        for piece in pieces:
            self.queue.put_nowait(MoItem({**address, **piece}, dict(tlvs or {}), ticket))
        return ticket

    def queue_receipt(self, fields: dict[str, object], tlvs: dict[int, bytes]) -> MoTicket:
        """A delivery receipt the SMSC sends on this handset's behalf."""
        ticket = MoTicket(parts=1)
        self.queue.put_nowait(MoItem(fields, tlvs, ticket))
        return ticket

    def deliver(self, message: Received) -> None:
        """The SMSC drops a (reassembled) MT text into this handset."""
        self.inbox.append(message)
        self._unread.put_nowait(message)

    async def receive(self, timeout: float = 5.0) -> Received:  # noqa: ASYNC109
        """The next MT text not yet returned by ``receive`` (``TimeoutError`` after ``timeout``)."""
        return await asyncio.wait_for(self._unread.get(), timeout)
