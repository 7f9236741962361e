"""The ISMG simulator's MT side: Submit answered (or faulted), parts joined, status reports queued."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from simulator.smsc_handset import Handset, Received
from smsmenu.gateway.smgp_codec import Status, Tag
from smsmenu.gateway.smgp_fields import tlv
from smsmenu.gateway.smgp_packets import Deliver, Submit, SubmitResp
from smsmenu.gateway.smgp_report import Report, msg_id, msg_id_text
from smsmenu.gateway.smgp_session import SmgpSession
from smsmenu.gateway.smgp_text import decode, message_parts
from smsmenu.gateway.smpp_reassembly import Reassembler

GATEWAY_CODE = 591001
"""The simulated ISMG's code, the first six digits of every MsgID it gives."""


@dataclass
class IsmgFaults:
    """Misbehaviour on demand; counters count down as they fire."""

    busy_next: int = 0
    """Answer the next N Submit with Status 1 (system busy)."""
    lose_submit_resps: int = 0
    """Take the next N Submit (the handset gets the text) but never answer them."""
    lose_mo_acks: int = 0
    """Act as if the next N DeliverResp never came (wait, then deliver again)."""
    submit_delay: float = 0.0
    """Seconds to sit on every Submit before answering it."""


@dataclass
class IsmgStats:
    logins: int = 0
    login_failures: int = 0
    mo_attempts: int = 0
    redeliveries: int = 0
    submits: int = 0
    reports: int = 0
    active_tests_answered: int = 0
    both_concat: int = 0
    """Submits carrying a UDH and PkTotal/PkNumber at once (which overruns handsets)."""
    message_ids: list[str] = field(default_factory=list)
    submitted: deque[Submit] = field(default_factory=lambda: deque(maxlen=1000))
    """The latest Submits as received (fees, ServiceID... for tests to look at)."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class IsmgMtDesk:
    """Takes Submit: answers with a MsgID, fills inboxes, queues status reports if asked."""

    def __init__(self, handset: Callable[[str], Handset], faults: IsmgFaults,
                 stats: IsmgStats, ids: Iterator[int]) -> None:  # fmt: skip
        self._handset = handset
        self.faults = faults
        self.stats = stats
        self._seq = ids
        self._parts = Reassembler(decode=decode)
        self._part_ids: dict[tuple[str, int], list[str]] = {}

    async def submit(self, session: SmgpSession, sequence: int, packet: Submit) -> None:
        if self.faults.submit_delay:
            await asyncio.sleep(self.faults.submit_delay)
        if self.faults.busy_next > 0:
            self.faults.busy_next -= 1
            session.respond(sequence, SubmitResp(b"\0" * 10, Status.BUSY))
            return
        raw_id = msg_id(GATEWAY_CODE, now(), next(self._seq))
        if self.faults.lose_submit_resps > 0:
            self.faults.lose_submit_resps -= 1
        else:
            session.respond(sequence, SubmitResp(raw_id, Status.OK))
        self.stats.submits += 1
        self.stats.submitted.append(packet)
        text_id = msg_id_text(raw_id)
        self.stats.message_ids.append(text_id)
        if tlv(packet.tlvs, Tag.TP_UDHI) == b"\x01" and tlv(packet.tlvs, Tag.PK_TOTAL):
            self.stats.both_concat += 1
        for dest in packet.dest_term_ids:
            self._to_handset(dest, packet, text_id)
            if packet.need_report:
                self.queue_report(self._handset(dest), packet.src_term_id, raw_id)

    def _to_handset(self, dest: str, packet: Submit, text_id: str) -> None:
        phone, sender = self._handset(dest), packet.src_term_id
        segment, payload = message_parts(packet.content, packet.tlvs)
        if segment is None:
            phone.deliver(Received(sender, decode(payload, packet.msg_format), now(), (text_id,)))
            return
        source = f"{dest}<{sender}"
        ids = self._part_ids.setdefault((source, segment.ref), [])
        ids.append(text_id)
        whole = self._parts.add(source, segment, packet.msg_format, payload)
        if whole is not None:
            self._parts.done(source, segment)
            del self._part_ids[(source, segment.ref)]
            phone.deliver(Received(sender, whole, now(), tuple(ids)))

    def queue_report(self, phone: Handset, sp: str, raw_id: bytes, stat: str = "DELIVRD") -> None:
        """A status report from the handset's side back to the SP that submitted."""
        stamp = now().strftime("%y%m%d%H%M")
        body = Report(raw_id, stat, submit_date=stamp, done_date=stamp).body()
        report = Deliver(msg_id(GATEWAY_CODE, now(), next(self._seq)), phone.msisdn, sp, body,
                         msg_format=0, is_report=1, recv_time=now().strftime("%Y%m%d%H%M%S"))
        self.stats.reports += 1
        phone.queue_receipt({"report": report}, {})
