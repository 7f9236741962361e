"""Handsets of the ISMG simulator: the SMSC simulator's handsets, their MO texts as SMGP Deliver."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from simulator.smsc_handset import Concat, Handset, MoItem, MoTicket
from smsmenu.gateway.smgp_codec import Tag
from smsmenu.gateway.smgp_fields import TLVs
from smsmenu.gateway.smgp_text import CODECS, UCS2, pick_format, split
from smsmenu.gateway.smgp_text import Concat as SmgpConcat

_refs = itertools.count(1)


@dataclass(frozen=True, slots=True)
class MoPart:
    """One Deliver's worth of an MO text: what goes in it besides the ids and the time."""

    content: bytes
    msg_format: int
    tlvs: TLVs = ()


def mo_parts(text: str, concat: Concat | None = None, parts: int | None = None,
             wide: int = UCS2) -> list[MoPart]:  # fmt: skip
    """One part when the text fits 140 octets, else parts with a UDH (``sar``: PkTotal and
    PkNumber TLVs instead); ``parts`` forces that many (UDH) parts."""
    how = SmgpConcat.TLV if concat == "sar" else SmgpConcat.UDH
    if parts is None:
        msg_format, pieces = split(text, next(_refs), concat=how, wide=wide)
        return [MoPart(p.content, msg_format, p.tlvs) for p in pieces]
    msg_format = pick_format(text, wide)
    size, ref = -(-len(text) // parts), next(_refs) & 0xFF
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    return [MoPart(bytes([5, 0, 3, ref, len(chunks), n]) + chunk.encode(CODECS[msg_format]),
                   msg_format, ((Tag.TP_UDHI, b"\x01"),))
            for n, chunk in enumerate(chunks, start=1)]  # fmt: skip


class IsmgHandset(Handset):
    """A phone behind the ISMG: ``await send("1")``, ``await receive()``, ``inbox``.

    Its queue holds ``MoItem``s whose ``fields`` are ``{"part": MoPart, "to": number}`` (or a
    status report's ``{"report": Deliver}``); the MO router turns them into Deliver packets.
    """

    def __init__(self, msisdn: str, service: str, wide: int = UCS2) -> None:
        super().__init__(msisdn, service)
        self.wide = wide

    async def send(self, text: str, *, to: str | None = None, concat: Concat | None = None,
                   parts: int | None = None, tlvs: dict[int, bytes] | None = None
                   ) -> MoTicket:  # fmt: skip
        """Queue an MO text to ``to`` (the service number); ``parts`` forces that many parts."""
        pieces = mo_parts(text, concat, parts, self.wide)
        ticket = MoTicket(parts=len(pieces))
        extra = tuple((tag, value) for tag, value in (tlvs or {}).items())
        for piece in pieces:
            part = MoPart(piece.content, piece.msg_format, piece.tlvs + extra)
            self.queue.put_nowait(MoItem({"part": part, "to": to or self.service}, {}, ticket))
        return ticket
