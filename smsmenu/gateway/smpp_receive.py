"""The receiving half of the SMPP gateway: deliver_sm to the engine's handler, receipts, acks."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog

from smsmenu.gateway.smpp_codec import RINVCMDID, ROK, RX_T_APPNACK, Pdu, text_field
from smsmenu.gateway.smpp_inbound import Reassembler, is_receipt, parse_receipt
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import decode, message_parts
from smsmenu.types import Channel, Clock, Inbound, InboundHandler

log = structlog.get_logger(__name__)

ReceiptHandler = Callable[[str, str, str], Awaitable[object]]
"""``on_receipt(message_id, stat, raw_text)``: e.g. store the receipt against the outbox row."""


class UtcClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class MoReceiver:
    """A session's request handler: answers each deliver_sm only after the handler returned."""

    def __init__(
        self,
        handler: InboundHandler | None,
        *,
        on_receipt: ReceiptHandler | None = None,
        message_id_tlv: int | None = None,
        clock: Clock | None = None,
        reassembly_timeout: float = 120.0,
    ) -> None:
        self.handler = handler
        self.on_receipt = on_receipt
        self.message_id_tlv = message_id_tlv
        self.clock: Clock = clock or UtcClock()
        self.reassembler = Reassembler(reassembly_timeout)
        self._serial: dict[str, tuple[asyncio.Lock, int]] = {}
        self._prefix = uuid.uuid4().hex[:20]
        self._keys = itertools.count()
        """Unique keys without a system call per message: random per process, then a counter."""

    async def __call__(self, session: SmppSession, pdu: Pdu) -> None:
        if pdu.command != "deliver_sm":
            session.nack(pdu.sequence, RINVCMDID)
            return
        status = ROK
        try:
            if is_receipt(pdu.esm_class):
                receipt = parse_receipt(pdu)
                if self.on_receipt is not None:
                    await self.on_receipt(receipt.message_id, receipt.stat, receipt.text)
            else:
                await self._mo(session, pdu)
        except Exception:
            log.exception("smpp.handler_failed", link=session.name,
                          source=text_field(pdu.source_addr))  # fmt: skip
            status = RX_T_APPNACK  # temporary: the SMSC keeps the message and redelivers it
        session.respond(pdu, status=status)

    def key_of(self, pdu: Pdu) -> str:
        """The carrier's id from the configured vendor TLV, else a fresh unique key (32 hex)."""
        if self.message_id_tlv is not None:
            vendor = pdu.tlvs.get(self.message_id_tlv, b"").rstrip(b"\0")
            if vendor:
                return str(vendor.decode("latin-1"))
        return f"{self._prefix}{next(self._keys):012x}"

    async def _mo(self, session: SmppSession, pdu: Pdu) -> None:
        source = text_field(pdu.source_addr)
        coding = pdu.data_coding or 0
        segment, payload = message_parts(pdu)
        whole = decode(payload, coding) if segment is None else None
        if segment is not None:
            whole = self.reassembler.add(source, segment, coding, payload)
        if whole is None:
            return  # a part: acknowledged now, the whole message goes to the engine
        inbound = Inbound(
            msisdn=source, text=whole, channel=Channel.SMS, received_at=self.clock.now(),
            key=self.key_of(pdu),
            meta={"smpp_bind": session.name, "service": text_field(pdu.destination_addr)},
        )  # fmt: skip
        if self.handler is None:
            raise LookupError("no handler attached yet")  # -> temporary error, redelivered later
        async with self._one_at_a_time(source):
            await self.handler(inbound)
        if segment is not None:
            self.reassembler.done(source, segment)

    @asynccontextmanager
    async def _one_at_a_time(self, source: str) -> AsyncIterator[None]:
        """Messages from one handset reach the engine in arrival order, one at a time."""
        lock, users = self._serial.get(source, (asyncio.Lock(), 0))
        self._serial[source] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._serial[source]
            if users <= 1:
                del self._serial[source]
            else:
                self._serial[source] = (lock, users - 1)
