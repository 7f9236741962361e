"""The receiving half of the SMPP gateway: deliver_sm to the engine's handler, receipts, acks.

Only short messages of text from a phone number reach the handler: receipts go to
``on_receipt``; other notifications, data (8-bit, compressed) and messages without a sender
are acknowledged and dropped with a log line, and never answered.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from smsmenu.core.types import Channel, Clock, Inbound, InboundHandler
from smsmenu.gateway.base import SenderBusy
from smsmenu.gateway.smpp_codec import RINVCMDID, ROK, RX_T_APPNACK, Pdu, text_field
from smsmenu.gateway.smpp_coding import is_text
from smsmenu.gateway.smpp_inbound import (
    MESSAGE_STATES,
    Limits,
    Reassembler,
    is_notification,
    is_receipt,
    notice_kind,
    parse_receipt,
)
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import decode, message_parts

log = structlog.get_logger(__name__)

ReceiptHandler = Callable[[str, str, str], Awaitable[object]]
"""``on_receipt(message_id, stat, raw_text)``: e.g. store the receipt against the outbox row."""


class ReceiptSink(Protocol):
    """An ``on_receipt`` that also takes receipts without being awaited (``ReceiptBook``)."""

    def note(self, message_id: str, stat: str, raw: str) -> bool:
        """Take the receipt (stored a moment later); False when too many wait to be stored."""
        ...

    def __call__(self, message_id: str, stat: str, raw: str) -> Awaitable[object]: ...


class UtcClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def _receipt_fields(pdu: Pdu) -> tuple[str, str, str]:
    """``parse_receipt``'s message id, state and text; without reading the text's fields when
    the receipted_message_id and a known message_state TLV give both (they win over the text)."""
    state = pdu.message_state
    if state in MESSAGE_STATES and pdu.receipted_message_id:
        message_id = text_field(pdu.receipted_message_id)
        if message_id:
            raw = (pdu.short_message or pdu.message_payload or b"").decode("latin-1")
            return message_id, MESSAGE_STATES[state], raw
    receipt = parse_receipt(pdu)
    return receipt.message_id, receipt.stat, receipt.text


class MoReceiver:
    """A session's request handler: answers each deliver_sm only after the handler returned.

    The handler (the inbound pipeline) cleans the sender, orders each number's messages and
    bounds how many wait: when it refuses one (``SenderBusy``) the answer is ``ESME_RX_T_APPN``
    and the SMSC delivers it again later; any other failure too (nothing committed). It is
    called in arrival order, with no pause between a request's arrival and that call
    (``_deliver`` awaits nothing before it), so its turns follow arrival. Delivery receipts for
    a ``ReceiptSink`` are answered in the reading turn (``inline``).
    """

    def __init__(
        self,
        handler: InboundHandler | None,
        *,
        on_receipt: ReceiptHandler | None = None,
        message_id_tlv: int | None = None,
        clock: Clock | None = None,
        reassembly_timeout: float = 120.0,
        limits: Limits | None = None,
    ) -> None:
        self.handler = handler
        self._note: Callable[[str, str, str], bool] | None = None
        self.on_receipt = on_receipt
        self.message_id_tlv = message_id_tlv
        self.clock: Clock = clock or UtcClock()
        self.reassembler = Reassembler(reassembly_timeout, limits=limits)
        self.dropped: Counter[str] = Counter()
        """deliver_sm acknowledged and dropped, by reason."""
        self._prefix = uuid.uuid4().hex[:20]
        self._keys = itertools.count()
        """Unique keys without a system call per message: random per process, then a counter."""

    async def __call__(self, session: SmppSession, pdu: Pdu) -> None:
        if pdu.command != "deliver_sm":
            session.nack(pdu.sequence, RINVCMDID)
            return
        try:
            status = await self._deliver(session, pdu)
        except SenderBusy:
            log.warning("smpp.sender_busy", link=session.name, source=text_field(pdu.source_addr))
            status = RX_T_APPNACK  # the SMSC delivers it again later
        except Exception:
            log.exception("smpp.handler_failed", link=session.name,
                          source=text_field(pdu.source_addr))  # fmt: skip
            status = RX_T_APPNACK  # temporary: the SMSC keeps the message and redelivers it
        session.respond(pdu, status=status)

    @property
    def on_receipt(self) -> ReceiptHandler | None:
        return self._on_receipt

    @on_receipt.setter
    def on_receipt(self, sink: ReceiptHandler | None) -> None:
        self._on_receipt = sink
        self._note = getattr(sink, "note", None) if sink is not None else None

    def inline(self, session: SmppSession, pdu: Pdu) -> bool:
        """Answer a delivery receipt at once, in the reading turn (no task): True if it did.

        Only receipts whose sink takes them without waiting (``ReceiptSink.note``), or with no
        sink at all; anything else is left to ``__call__`` in its own task.
        """
        if pdu.command != "deliver_sm" or not is_receipt(pdu.esm_class):
            return False
        note = self._note
        if note is None and self._on_receipt is not None:
            return False
        try:
            status = ROK
            if note is not None:
                message_id, stat, raw = _receipt_fields(pdu)
                if not note(message_id, stat, raw):
                    status = RX_T_APPNACK  # too many waiting to be stored: redelivered later
        except Exception:
            log.exception("smpp.receipt_failed", link=session.name)
            status = RX_T_APPNACK
        session.respond(pdu, status=status)
        return True

    def close(self) -> None:
        """Stop the reassembly timer."""
        self.reassembler.close()

    def key_of(self, pdu: Pdu) -> tuple[str, bool]:
        """The carrier's id from the configured vendor TLV (durable: a redelivery carries it
        again), else a fresh unique key (32 hex, this delivery's only)."""
        if self.message_id_tlv is not None:
            vendor = pdu.tlvs.get(self.message_id_tlv, b"").rstrip(b"\0")
            if vendor:
                return str(vendor.decode("latin-1")), True
        return f"{self._prefix}{next(self._keys):012x}", False

    def _drop(self, session: SmppSession, pdu: Pdu, why: str) -> int:
        """Acknowledge and forget a deliver_sm that is no text for the menu."""
        self.dropped[why] += 1
        log.info("smpp.mo_dropped", link=session.name, why=why, esm_class=pdu.esm_class or 0,
                 data_coding=pdu.data_coding or 0, source=text_field(pdu.source_addr)[:32])  # fmt: skip
        return ROK

    async def _deliver(self, session: SmppSession, pdu: Pdu) -> int:
        """The deliver_sm_resp status for ``pdu``, once it went where it belongs."""
        if is_receipt(pdu.esm_class):
            if self._note is not None:
                return ROK if self._note(*_receipt_fields(pdu)) else RX_T_APPNACK
            receipt = parse_receipt(pdu)
            if self._on_receipt is not None:
                await self._on_receipt(receipt.message_id, receipt.stat, receipt.text)
            return ROK
        if is_notification(pdu.esm_class):
            return self._drop(session, pdu, notice_kind(pdu.esm_class))
        handler = self.handler
        if handler is None:
            raise LookupError("no handler attached yet")  # -> temporary error, redelivered later
        source = handler.sender(text_field(pdu.source_addr))
        if source is None:
            return self._drop(session, pdu, "no phone number as sender")
        coding = pdu.data_coding or 0
        if not is_text(coding):
            return self._drop(session, pdu, "data, not text")
        segment, payload = message_parts(pdu)
        if segment is not None:
            whole = self.reassembler.add(source, segment, coding, payload)
            if whole is None:
                return ROK  # a part: acknowledged now, the whole message goes to the engine
        elif len(payload) > self.reassembler.limits.message_bytes:
            return self._drop(session, pdu, "message too long")
        else:
            whole = decode(payload, coding)
        key, durable = self.key_of(pdu)
        inbound = Inbound(
            msisdn=source, text=whole, channel=Channel.SMS, received_at=self.clock.now(),
            key=key, durable_key=durable,
            meta={"smpp_bind": session.name, "service": text_field(pdu.destination_addr)},
        )  # fmt: skip
        await handler(inbound)  # takes the sender's turn before it first suspends
        if segment is not None:
            self.reassembler.done(source, segment)
        return ROK
