"""One ESME bind as transceiver that keeps itself up: back-off with jitter, enquire_link, unbind."""

from __future__ import annotations

import asyncio
import random

import structlog

from smsmenu.gateway.link import Link
from smsmenu.gateway.smpp_codec import ROK, Pdu, status_text
from smsmenu.gateway.smpp_config import SmppBind
from smsmenu.gateway.smpp_session import InlineHandler, RequestHandler, SmppSession

log = structlog.get_logger(__name__)


class BindRefused(ConnectionError):
    """The SMSC answered the bind with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"bind refused: {status_text(status)}")
        self.status = status


class SmppLink(Link[SmppBind, SmppSession]):
    """``start()`` connects in the background; ``session`` is set while bound."""

    protocol = "smpp"

    def __init__(
        self, bind: SmppBind, on_request: RequestHandler, rng: random.Random | None = None, *,
        inline: InlineHandler | None = None,
    ) -> None:
        super().__init__(bind, rng)
        self._on_request = on_request
        self._inline = inline

    @property
    def bind(self) -> SmppBind:
        return self.config

    @property
    def binds(self) -> int:
        """Binds that succeeded."""
        return self.ups

    async def _connect_and_serve(self) -> None:
        b = self.bind
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(b.host, b.port), b.connect_timeout
        )
        session = SmppSession(
            reader, writer, self._on_request, window=b.window,
            response_timeout=b.response_timeout, name=b.label, tasks=self.tasks,
            handlers=b.inbound_window, inline=self._inline,
        )  # fmt: skip
        runner = asyncio.create_task(session.run())
        keepalive: asyncio.Task[None] | None = None
        try:
            resp: Pdu = await session.request(session.make(
                "bind_transceiver", system_id=b.system_id, password=b.password,
                system_type=b.system_type, address_range=b.address_range,
            ))  # fmt: skip
            if resp.status != ROK:
                raise BindRefused(resp.status)
            self._went_up(session)
            log.info("smpp.bound", bind=b.label)
            keepalive = asyncio.create_task(self._keepalive(session))
            await runner
        finally:
            self._went_down()
            if keepalive is not None:
                keepalive.cancel()
            runner.cancel()
            tasks = [runner] if keepalive is None else [runner, keepalive]
            await asyncio.gather(*tasks, return_exceptions=True)
            await session.aclose()

    async def _keepalive(self, session: SmppSession) -> None:
        """enquire_link every interval; a link that does not answer in time is dropped."""
        while not session.closed:
            await asyncio.sleep(self.bind.enquire_interval)
            try:
                await session.request(session.make("enquire_link"))
            except (TimeoutError, ConnectionError):
                log.warning("smpp.enquire_link_unanswered", bind=self.bind.label)
                session.close()

    async def _goodbye(self, session: SmppSession, grace: float) -> None:
        await session.unbind(grace)
