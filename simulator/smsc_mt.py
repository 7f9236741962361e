"""The SMSC simulator's MT side: submit_sm answered (or faulted), parts joined, receipts queued."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.smsc_handset import Handset, Received
from smsmenu.gateway.smpp_codec import RTHROTTLED, Pdu, text_field
from smsmenu.gateway.smpp_inbound import Reassembler
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import decode, message_parts


@dataclass
class Faults:
    """Misbehaviour on demand; counters count down as they fire."""

    throttle_next: int = 0
    """Answer the next N submit_sm with ESME_RTHROTTLED."""
    lose_mo_acks: int = 0
    """Act as if the next N deliver_sm_resp never came (wait, then redeliver)."""
    submit_delay: float = 0.0
    """Seconds to sit on every submit_sm before answering it."""


@dataclass
class Stats:
    binds: int = 0
    bind_failures: int = 0
    mo_attempts: int = 0
    redeliveries: int = 0
    submits: int = 0
    receipts: int = 0
    message_ids: list[str] = field(default_factory=list)
    """Every message id given in a submit_sm_resp, in order."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MtDesk:
    """Takes submit_sm: answers with a message id, fills the inbox, queues receipts if asked."""

    def __init__(self, handset: Callable[[str], Handset], faults: Faults, stats: Stats) -> None:
        self._handset = handset
        self.faults = faults
        self.stats = stats
        self._ids = itertools.count(1)
        self._parts = Reassembler()
        self._part_ids: dict[tuple[str, int], list[str]] = {}

    async def submit(self, session: SmppSession, pdu: Pdu) -> None:
        if self.faults.submit_delay:
            await asyncio.sleep(self.faults.submit_delay)
        if self.faults.throttle_next > 0:
            self.faults.throttle_next -= 1
            session.respond(pdu, status=RTHROTTLED)
            return
        message_id = f"{next(self._ids):010x}"
        session.respond(pdu, message_id=message_id)
        self.stats.submits += 1
        self.stats.message_ids.append(message_id)
        sender, to = text_field(pdu.source_addr), text_field(pdu.destination_addr)
        phone = self._handset(to)
        segment, payload = message_parts(pdu)
        coding = pdu.data_coding or 0
        if segment is None:
            phone.deliver(Received(sender, decode(payload, coding), now(), (message_id,)))
        else:
            source = f"{to}<{sender}"
            ids = self._part_ids.setdefault((source, segment.ref), [])
            ids.append(message_id)
            whole = self._parts.add(source, segment, coding, payload)
            if whole is not None:
                self._parts.done(source, segment)
                del self._part_ids[(source, segment.ref)]
                phone.deliver(Received(sender, whole, now(), tuple(ids)))
        if (pdu.registered_delivery or 0) & 0x01:
            self.queue_receipt(phone, sender, message_id)

    def queue_receipt(self, phone: Handset, service: str, message_id: str) -> None:
        """A DELIVRD receipt (text and TLVs) from the handset back to the submitting ESME."""
        stamp = now().strftime("%y%m%d%H%M")
        text = (f"id:{message_id} sub:001 dlvrd:001 submit date:{stamp} done date:{stamp} "
                f"stat:DELIVRD err:000 text:")  # fmt: skip
        fields: dict[str, object] = {
            "source_addr": phone.msisdn, "destination_addr": service, "esm_class": 0x04,
            "short_message": text.encode("ascii"), "receipted_message_id": message_id,
            "message_state": 2,
        }  # fmt: skip
        self.stats.receipts += 1
        phone.queue_receipt(fields, {})
