"""The receiving half of the SMGP gateway: Deliver to the engine's handler, status reports, acks.

Only text from a phone number reaches the handler; status reports go to ``on_receipt``;
data (binary, SIM card formats) and messages without a sender are acknowledged and dropped
with a log line. A DeliverResp OK goes out only once the handler returned (the step and its
money effect committed); any failure answers busy, and the ISMG delivers the message again.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Callable

import structlog

from smsmenu.core.types import Channel, Clock, Inbound, InboundHandler
from smsmenu.gateway.base import SenderBusy
from smsmenu.gateway.smgp_codec import Status
from smsmenu.gateway.smgp_packets import Deliver, DeliverResp, Packet, refusal
from smsmenu.gateway.smgp_report import msg_id_text, parse_report
from smsmenu.gateway.smgp_session import SmgpSession
from smsmenu.gateway.smgp_text import decode, is_text, message_parts
from smsmenu.gateway.smpp_reassembly import Limits, Reassembler
from smsmenu.gateway.smpp_receive import ReceiptHandler, UtcClock

log = structlog.get_logger(__name__)


class SmgpReceiver:
    """A session's request handler (``__call__``) and its reading-turn shortcut (``inline``)."""

    def __init__(self, handler: InboundHandler | None, *, on_receipt: ReceiptHandler | None = None,
                 clock: Clock | None = None, reassembly_timeout: float = 120.0,
                 limits: Limits | None = None) -> None:  # fmt: skip
        self.handler = handler
        self.on_receipt = on_receipt
        self.clock: Clock = clock or UtcClock()
        self.reassembler = Reassembler(reassembly_timeout, limits=limits, decode=decode)
        self.dropped: Counter[str] = Counter()
        self.reports = 0
        self._prefix = uuid.uuid4().hex[:12]
        self._keys = itertools.count()

    @property
    def on_receipt(self) -> ReceiptHandler | None:
        return self._on_receipt

    @on_receipt.setter
    def on_receipt(self, sink: ReceiptHandler | None) -> None:
        self._on_receipt = sink
        self._note: Callable[[str, str, str], bool] | None = getattr(sink, "note", None)

    def inline(self, session: SmgpSession, sequence: int, packet: Packet) -> bool:
        """Answer a status report at once when its sink takes it without waiting."""
        if not isinstance(packet, Deliver) or not packet.is_report:
            return False
        if self._note is None and self._on_receipt is not None:
            return False
        status = Status.OK
        report = parse_report(packet.content)
        if report is None:
            self.dropped["unreadable status report"] += 1
        elif self._note is not None:
            self.reports += 1
            raw = packet.content.decode("latin-1")
            if not self._note(msg_id_text(report.msg_id), report.stat.upper(), raw):
                status = Status.BUSY  # too many waiting to be stored: delivered again later
        session.respond(sequence, DeliverResp(packet.msg_id, status))
        return True

    async def __call__(self, session: SmgpSession, sequence: int, packet: Packet) -> None:
        if not isinstance(packet, Deliver):  # an ISMG sends us Deliver only
            session.respond(sequence, refusal(packet.COMMAND, b"", Status.BAD_COMMAND))
            return
        try:
            status = await self._deliver(session, packet)
        except SenderBusy:
            log.warning("smgp.sender_busy", link=session.name, source=packet.src_term_id[:21])
            status = Status.BUSY
        except Exception:
            log.exception("smgp.handler_failed", link=session.name, source=packet.src_term_id)
            status = Status.BUSY  # nothing acknowledged: the ISMG delivers it again
        session.respond(sequence, DeliverResp(packet.msg_id, status))

    def key_of(self, packet: Deliver) -> tuple[str, bool]:
        """The ISMG's MsgID (durable: a redelivery carries it again); a gateway that leaves it
        empty gets a fresh key per delivery, which is no key to answer a redelivery with."""
        if packet.msg_id.strip(b"\0"):
            return f"smgp-{msg_id_text(packet.msg_id)}", True
        return f"smgp-{self._prefix}{next(self._keys):012x}", False

    def _drop(self, session: SmgpSession, packet: Deliver, why: str) -> int:
        self.dropped[why] += 1
        log.info("smgp.mo_dropped", link=session.name, why=why, msg_format=packet.msg_format,
                 source=packet.src_term_id)  # fmt: skip
        return Status.OK

    async def _deliver(self, session: SmgpSession, packet: Deliver) -> int:
        """The DeliverResp status for ``packet``, once it went where it belongs."""
        if packet.is_report:
            report = parse_report(packet.content)
            if report is None:
                return self._drop(session, packet, "unreadable status report")
            self.reports += 1
            if self._on_receipt is not None:
                await self._on_receipt(msg_id_text(report.msg_id), report.stat.upper(),
                                       packet.content.decode("latin-1"))  # fmt: skip
            return Status.OK
        handler = self.handler
        if handler is None:
            raise LookupError("no handler attached yet")  # -> busy, delivered again later
        source = handler.sender(packet.src_term_id)
        if source is None:
            return self._drop(session, packet, "no phone number as sender")
        if not is_text(packet.msg_format):
            return self._drop(session, packet, "data, not text")
        segment, payload = message_parts(packet.content, packet.tlvs)
        if segment is not None:
            whole = self.reassembler.add(source, segment, packet.msg_format, payload)
            if whole is None:
                return Status.OK  # a part: acknowledged now, the whole message goes on
        else:
            whole = decode(payload, packet.msg_format)
        key, durable = self.key_of(packet)
        inbound = Inbound(
            msisdn=source, text=whole, channel=Channel.SMS, received_at=self.clock.now(),
            key=key, durable_key=durable,
            meta={"smgp_link": session.name, "service": packet.dest_term_id},
        )  # fmt: skip
        await handler(inbound)
        if segment is not None:
            self.reassembler.done(source, segment)
        return Status.OK

    def close(self) -> None:
        self.reassembler.close()
