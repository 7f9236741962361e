"""The SMGP 3.0 gateway (an SP's client of China Telecom's ISMG): Deliver in, outbox out as Submit."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Sequence

import structlog

from smsmenu.core.errors import TransportError
from smsmenu.core.types import Clock, InboundHandler, Reply
from smsmenu.gateway.base import Gateway, Health, SendResult
from smsmenu.gateway.smgp_codec import RETRYABLE, Status, status_text
from smsmenu.gateway.smgp_config import SmgpLinkConfig
from smsmenu.gateway.smgp_link import SmgpLink
from smsmenu.gateway.smgp_packets import Submit, SubmitResp
from smsmenu.gateway.smgp_receive import SmgpReceiver
from smsmenu.gateway.smgp_report import msg_id_text
from smsmenu.gateway.smgp_session import SmgpSession
from smsmenu.gateway.smgp_text import Concat, split
from smsmenu.gateway.smpp_reassembly import Limits
from smsmenu.gateway.smpp_receive import ReceiptHandler

log = structlog.get_logger(__name__)


class SmgpGateway(Gateway):
    """One or more logins; ``send`` goes out on any logged-in link that sends, round-robin.

    As the SMPP gateway: MO reach ``handler`` and are acknowledged (DeliverResp OK) only once
    it returned; replies leave through the outbox drain's ``send``; status reports reach
    ``on_receipt(message_id, stat, raw)``, the message id being the Submit's MsgID in hex.
    Every MT is free to the agent (R-20): FeeType "00", FeeCode "000000", FixedFee "000000".
    """

    name = "smgp"

    def __init__(self, links: SmgpLinkConfig | Sequence[SmgpLinkConfig],
                 handler: InboundHandler | None = None, *, on_receipt: ReceiptHandler | None = None,
                 clock: Clock | None = None, reassembly_timeout: float = 120.0,
                 send_wait: float = 5.0, rng: random.Random | None = None,
                 limits: Limits | None = None) -> None:  # fmt: skip
        configs = [links] if isinstance(links, SmgpLinkConfig) else list(links)
        if not configs:
            raise ValueError("at least one SMGP link is needed")
        self.receiver = SmgpReceiver(handler, on_receipt=on_receipt, clock=clock,
                                     reassembly_timeout=reassembly_timeout, limits=limits)  # fmt: skip
        self.links = [SmgpLink(c, self.receiver, rng, inline=self.receiver.inline)
                      for c in configs]  # fmt: skip
        self._senders = [link for link in self.links if link.config.sends]
        self._send_wait = send_wait
        self._turn = itertools.count()
        self._refs = itertools.count(random.randrange(256))
        """One reference counter for every link: parts of two messages never share one."""

    @property
    def bound(self) -> bool:
        return any(link.bound for link in self._senders)

    @property
    def in_flight(self) -> int:
        return sum(link.in_flight for link in self.links)

    def health(self) -> Health:
        return Health(self.bound, self.in_flight, tuple(link.health() for link in self.links))

    def attach(self, handler: InboundHandler, on_receipt: ReceiptHandler | None = None) -> None:
        """Set the engine's entry point (and receipt sink) when they exist after the gateway."""
        self.receiver.handler = handler
        if on_receipt is not None:
            self.receiver.on_receipt = on_receipt

    def start(self) -> None:
        for link in self.links:
            link.start()

    async def wait_bound(self) -> None:
        """Wait until every link is logged in (wrap in ``asyncio.timeout`` for a limit)."""
        await asyncio.gather(*(link.wait_bound() for link in self.links))

    def _ready(self) -> tuple[SmgpLink, SmgpSession] | None:
        ready = [(link, link.session) for link in self._senders if link.bound]
        if not ready:
            return None
        link, session = ready[next(self._turn) % len(ready)]
        return None if session is None else (link, session)

    async def _any_link(self) -> tuple[SmgpLink, SmgpSession]:
        while (ready := self._ready()) is None:
            waits = [asyncio.ensure_future(link.wait_bound()) for link in self._senders]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
        return ready

    async def send(self, message: Reply) -> SendResult:
        """Submit every part (UDH or PkTotal/PkNumber when long); the last part's MsgID."""
        picked = self._ready()
        if picked is None:
            try:
                picked = await asyncio.wait_for(self._any_link(), self._send_wait)
            except TimeoutError:
                raise TransportError(why="no SMGP link is logged in to send") from None
        link, session = picked
        c = link.config
        try:
            msg_format, parts = split(message.text, next(self._refs) % 256,
                                      concat=Concat(c.concat), wide=c.wide)  # fmt: skip
        except ValueError as exc:
            raise TransportError(why=str(exc)) from exc
        message_id = ""
        for part in parts:  # every part a whole Submit: ServiceID, fees, report flag each time
            submit = Submit(c.sp, (message.to,), part.content, msg_format=msg_format,
                            need_report=c.need_report, priority=c.priority,
                            service_id=c.service_id, tlvs=part.tlvs)  # fmt: skip
            message_id = await self._submit(link, session, submit)
        return SendResult(message_id=message_id or None)

    async def _submit(self, link: SmgpLink, session: SmgpSession, submit: Submit) -> str:
        status = -1
        for attempt in range(link.config.throttle_retries + 1):
            await link.pace()
            try:
                resp = await session.request(submit)
            except (TimeoutError, ConnectionError) as exc:
                raise TransportError(why=f"Submit on {link.config.label}: {exc!r}") from exc
            status = resp.status if isinstance(resp, SubmitResp) else Status.BAD_STRUCTURE
            if status == Status.OK and isinstance(resp, SubmitResp):
                return msg_id_text(resp.msg_id)
            if status not in RETRYABLE:
                break
            pause = link.slow_down(attempt)
            log.info("smgp.busy_answer", link=link.config.label, status=status_text(status),
                     pause=pause)  # fmt: skip
        log.warning("smgp.submit_refused", link=link.config.label, status=status_text(status))
        raise TransportError(why=f"Submit refused on {link.config.label}: {status_text(status)}")

    async def aclose(self, grace: float = 2.0) -> None:
        """Let running handlers answer, Exit every link and stop reconnecting; idempotent."""
        await asyncio.gather(*(link.aclose(grace) for link in self.links))
        self.receiver.close()
