"""The SMPP gateway (ESME): MO deliver_sm into the engine's handler, outbox out as submit_sm."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Sequence

import structlog

from smsmenu.core.errors import TransportError
from smsmenu.core.types import Clock, InboundHandler, Reply
from smsmenu.gateway.base import Gateway, Health, SendResult
from smsmenu.gateway.smpp_codec import RMSGQFUL, ROK, RTHROTTLED, Pdu, status_text, text_field
from smsmenu.gateway.smpp_config import SmppBind
from smsmenu.gateway.smpp_inbound import Limits
from smsmenu.gateway.smpp_link import SmppLink
from smsmenu.gateway.smpp_receive import MoReceiver, ReceiptHandler
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import split

log = structlog.get_logger(__name__)

__all__ = ["ReceiptHandler", "SmppBind", "SmppGateway"]


class SmppGateway(Gateway):
    """One or more transceiver binds; ``send`` goes out on any bound one, round-robin.

    MO reaches ``handler`` (the inbound pipeline); its deliver_sm_resp waits for the handler to
    return and is a temporary error (redelivered by the SMSC) if it raises. Replies are not sent
    here (SMS is store and forward: ``Delivery.OUTBOX``): the outbox drain calls ``send``.
    Receipts go to ``on_receipt(message_id, stat, raw_text)``. Senders are cleaned by the
    handler (``InboundHandler.sender``); ``limits`` bound the reassembly of concatenated MO.
    """

    name = "smpp"

    def __init__(
        self,
        binds: SmppBind | Sequence[SmppBind],
        handler: InboundHandler | None = None,
        *,
        on_receipt: ReceiptHandler | None = None,
        message_id_tlv: int | None = None,
        clock: Clock | None = None,
        reassembly_timeout: float = 120.0,
        send_wait: float = 5.0,
        rng: random.Random | None = None,
        limits: Limits | None = None,
    ) -> None:
        binds = [binds] if isinstance(binds, SmppBind) else list(binds)
        if not binds:
            raise ValueError("at least one SMPP bind is needed")
        self.receiver = MoReceiver(
            handler, on_receipt=on_receipt, message_id_tlv=message_id_tlv, clock=clock,
            reassembly_timeout=reassembly_timeout, limits=limits,
        )  # fmt: skip
        self.links = [SmppLink(b, self.receiver, rng, inline=self.receiver.inline) for b in binds]
        self._send_wait = send_wait
        self._turn = itertools.count()
        self._refs = itertools.count(random.randrange(256))

    @property
    def bound(self) -> bool:
        for link in self.links:  # (asked for every reply: a loop, not a generator)
            session = link.session
            if session is not None and not session.closed:
                return True
        return False

    @property
    def in_flight(self) -> int:
        """Requests awaiting their response, over all binds (the window use)."""
        return sum(link.in_flight for link in self.links)

    def health(self) -> Health:
        return Health(self.bound, self.in_flight, tuple(link.health() for link in self.links))

    def attach(self, handler: InboundHandler, on_receipt: ReceiptHandler | None = None) -> None:
        """Set the engine's entry point (and receipt sink) when they exist after the gateway."""
        self.receiver.handler = handler
        if on_receipt is not None:
            self.receiver.on_receipt = on_receipt

    def start(self) -> None:
        """Begin connecting every bind in the background; returns at once."""
        for link in self.links:
            link.start()

    async def wait_bound(self) -> None:
        """Wait until at least one bind is up (wrap in ``asyncio.timeout`` for a limit)."""
        await self._any_link()

    def _ready(self) -> tuple[SmppLink, SmppSession] | None:
        """A bound link, round-robin over those bound, without waiting; None when none is."""
        links = self.links
        if len(links) == 1:
            session = links[0].session
            return None if session is None or session.closed else (links[0], session)
        ready = [(link, link.session) for link in links if link.bound]
        if not ready:
            return None
        link, session = ready[next(self._turn) % len(ready)]
        return None if session is None else (link, session)

    async def _any_link(self) -> tuple[SmppLink, SmppSession]:
        ready = self._ready()
        if ready is not None:
            return ready
        waits = {asyncio.ensure_future(link.wait_bound()): link for link in self.links}
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        first = done.pop()
        return waits[first], first.result()

    async def send(self, message: Reply) -> SendResult:
        """submit_sm every part (UDH-concatenated if long); the last part's id once all are OK."""
        picked = self._ready()  # a bound link: no waiting, no timer (the usual case)
        if picked is None:
            try:
                picked = await asyncio.wait_for(self._any_link(), self._send_wait)
            except TimeoutError:
                raise TransportError(why="no SMPP bind is up") from None
        link, session = picked
        b = link.bind
        try:
            coding, esm_class, parts = split(message.text, next(self._refs) % 256)
        except ValueError as exc:  # over 255 parts: no SMSC would take it
            raise TransportError(why=str(exc)) from exc
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
            if link.paused:
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

    async def aclose(self, grace: float = 2.0) -> None:
        """Let running handlers answer, unbind every link and stop reconnecting; idempotent."""
        await asyncio.gather(*(link.aclose(grace) for link in self.links))
        self.receiver.close()
