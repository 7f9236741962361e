"""The SMPP gateway (ESME): MO deliver_sm into the engine's handler, outbox out as submit_sm."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import structlog

from smsmenu.errors import TransportError
from smsmenu.gateway.base import Gateway, Outbound, SendResult
from smsmenu.gateway.smpp_codec import (
    RINVCMDID,
    RMSGQFUL,
    ROK,
    RTHROTTLED,
    RX_T_APPNACK,
    Pdu,
    status_text,
    text_field,
)
from smsmenu.gateway.smpp_config import SmppBind
from smsmenu.gateway.smpp_inbound import Reassembler, is_receipt, parse_receipt
from smsmenu.gateway.smpp_link import SmppLink
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import decode, message_parts, split
from smsmenu.types import Channel, Clock, Inbound, InboundHandler

log = structlog.get_logger(__name__)

ReceiptHandler = Callable[[str, str, str], Awaitable[None]]
"""``on_receipt(message_id, stat, raw_text)``: e.g. store the receipt against the outbox row."""


class _UtcClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class SmppGateway(Gateway):
    """One or more transceiver binds; ``send`` goes out on any bound one, round-robin."""

    name = "smpp"

    def __init__(
        self,
        binds: SmppBind | Sequence[SmppBind],
        handler: InboundHandler,
        *,
        on_receipt: ReceiptHandler | None = None,
        message_id_tlv: int | None = None,
        clock: Clock | None = None,
        reassembly_timeout: float = 120.0,
        send_wait: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        binds = [binds] if isinstance(binds, SmppBind) else list(binds)
        if not binds:
            raise ValueError("at least one SMPP bind is needed")
        self.links = [SmppLink(b, self._on_request, rng) for b in binds]
        self._handler = handler
        self._on_receipt = on_receipt
        self._message_id_tlv = message_id_tlv
        self._clock: Clock = clock or _UtcClock()
        self._reassembler = Reassembler(reassembly_timeout)
        self._send_wait = send_wait
        self._turn = itertools.count()
        self._refs = itertools.count(random.randrange(256))
        self._serial: dict[str, tuple[asyncio.Lock, int]] = {}

    @property
    def bound(self) -> bool:
        return any(link.bound for link in self.links)

    @property
    def in_flight(self) -> int:
        """Requests awaiting their response, over all binds (the window use)."""
        return sum(link.in_flight for link in self.links)

    def health(self) -> dict[str, object]:
        return {"bound": self.bound, "in_flight": self.in_flight,
                "links": [link.health() for link in self.links]}  # fmt: skip

    def start(self) -> None:
        """Begin connecting every bind in the background; returns at once."""
        for link in self.links:
            link.start()

    async def wait_bound(self) -> None:
        """Wait until at least one bind is up (wrap in ``asyncio.timeout`` for a limit)."""
        await self._any_link()

    async def _any_link(self) -> tuple[SmppLink, SmppSession]:
        ready = [link for link in self.links if link.bound]
        if ready:
            link = ready[next(self._turn) % len(ready)]
            if link.session is not None:
                return link, link.session
        waits = {asyncio.ensure_future(link.wait_bound()): link for link in self.links}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        first = done.pop()
        return waits[first], first.result()

    async def send(self, message: Outbound) -> SendResult:
        """submit_sm every part (UDH-concatenated if long); the last part's id once all are OK."""
        try:
            link, session = await asyncio.wait_for(self._any_link(), self._send_wait)
        except TimeoutError:
            raise TransportError(why="no SMPP bind is up") from None
        b = link.bind
        coding, esm_class, parts = split(message.text, next(self._refs) % 256)
        message_id = ""
        for part in parts:
            fields = dict(
                source_addr_ton=b.source_ton, source_addr_npi=b.source_npi,
                source_addr=b.source_addr, dest_addr_ton=b.dest_ton, dest_addr_npi=b.dest_npi,
                destination_addr=message.to, esm_class=esm_class, data_coding=coding,
                registered_delivery=b.registered_delivery, short_message=part,
            )  # fmt: skip
            message_id = await self._submit(link, session, fields)
        return SendResult(message_id=message_id or None)

    async def _submit(self, link: SmppLink, session: SmppSession, fields: dict[str, object]) -> str:
        for attempt in range(link.bind.throttle_retries + 1):
            await link.pace()
            try:
                resp: Pdu = await session.request(session.make("submit_sm", **fields))
            except (TimeoutError, ConnectionError) as exc:
                raise TransportError(why=f"submit_sm on {link.bind.label}: {exc!r}") from exc
            if resp.status == ROK:
                return text_field(resp.message_id)
            if resp.status not in (RTHROTTLED, RMSGQFUL):
                break
            pause = link.slow_down(attempt)
            log.info("smpp.throttled", bind=link.bind.label, status=status_text(resp.status),
                     pause=pause)  # fmt: skip
        why = f"submit_sm refused on {link.bind.label}: {status_text(resp.status)}"
        log.warning("smpp.submit_refused", bind=link.bind.label, status=status_text(resp.status))
        raise TransportError(why=why)

    async def _on_request(self, session: SmppSession, pdu: Pdu) -> None:
        if pdu.command != "deliver_sm":
            session.nack(pdu.sequence, RINVCMDID)
            return
        status = ROK
        try:
            if is_receipt(pdu.esm_class):
                receipt = parse_receipt(pdu)
                if self._on_receipt is not None:
                    await self._on_receipt(receipt.message_id, receipt.stat, receipt.text)
            else:
                await self._on_mo(session, pdu)
        except Exception:
            log.exception("smpp.handler_failed", link=session.name,
                          source=text_field(pdu.source_addr))  # fmt: skip
            status = RX_T_APPNACK  # temporary: the SMSC keeps the message and redelivers it
        session.respond(pdu, status=status)

    async def _on_mo(self, session: SmppSession, pdu: Pdu) -> None:
        source = text_field(pdu.source_addr)
        coding = pdu.data_coding or 0
        segment, payload = message_parts(pdu)
        whole = decode(payload, coding) if segment is None else None
        if segment is not None:
            whole = self._reassembler.add(source, segment, coding, payload)
        if whole is None:
            return  # a part: acknowledged now, the whole message goes to the engine
        vendor = pdu.tlvs.get(self._message_id_tlv) if self._message_id_tlv is not None else None
        key = vendor.rstrip(b"\0").decode("latin-1") if vendor else ""
        inbound = Inbound(
            msisdn=source, text=whole, channel=Channel.SMS, received_at=self._clock.now(),
            key=key or uuid.uuid4().hex,
            meta={"smpp_bind": session.name, "service": text_field(pdu.destination_addr)},
        )  # fmt: skip
        async with self._one_at_a_time(source):
            await self._handler(inbound)
        if segment is not None:
            self._reassembler.done(source, segment)

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

    async def aclose(self, grace: float = 2.0) -> None:
        """Let running handlers answer, unbind every link and stop reconnecting; idempotent."""
        await asyncio.gather(*(link.aclose(grace) for link in self.links))
