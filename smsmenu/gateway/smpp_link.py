"""One ESME bind as transceiver that keeps itself up: back-off with jitter, enquire_link, unbind."""

from __future__ import annotations

import asyncio
import random

import structlog

from smsmenu.gateway.base import LinkHealth
from smsmenu.gateway.smpp_codec import ROK, Pdu, status_text
from smsmenu.gateway.smpp_config import SmppBind
from smsmenu.gateway.smpp_session import InlineHandler, RequestHandler, SmppSession, finish

log = structlog.get_logger(__name__)


class BindRefused(ConnectionError):
    """The SMSC answered the bind with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"bind refused: {status_text(status)}")
        self.status = status


class SmppLink:
    """``start()`` connects in the background; ``session`` is set while bound."""

    def __init__(
        self, bind: SmppBind, on_request: RequestHandler, rng: random.Random | None = None, *,
        inline: InlineHandler | None = None,
    ) -> None:
        self.bind = bind
        self.session: SmppSession | None = None
        self.binds = 0
        self.failures = 0
        self.last_error = ""
        self._on_request = on_request
        self._inline = inline
        self._rng = rng or random.Random()
        self._bound = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._paused_until = 0.0
        self.tasks: set[asyncio.Task[None]] = set()
        """Request handlers still running, across reconnects (drained by ``aclose``)."""

    @property
    def bound(self) -> bool:
        return self.session is not None and not self.session.closed

    @property
    def in_flight(self) -> int:
        return self.session.in_flight if self.session else 0

    def health(self) -> LinkHealth:
        return LinkHealth(self.bind.label, self.bound, self.in_flight, self.bind.window,
                          self.binds, self.failures, self.last_error)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"smpp-link {self.bind.label}")

    async def wait_bound(self) -> SmppSession:
        """The bound session, once there is one (wrap in ``asyncio.wait_for`` for a limit)."""
        while True:
            await self._bound.wait()
            if self.session is not None and not self.session.closed:
                return self.session
            self._bound.clear()

    def slow_down(self, attempt: int) -> float:
        """After a throttling answer: hold every submit on this link for a growing pause."""
        pause = min(self.bind.throttle_delay * 2.0**attempt, self.bind.backoff_max)
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + pause)  # (never 0.0)
        return pause

    @property
    def paused(self) -> bool:
        """Submits on this link are held (``slow_down``): ``pace`` before sending."""
        until = self._paused_until
        if not until:
            return False
        if until > asyncio.get_running_loop().time():
            return True
        self._paused_until = 0.0  # the pause is over: no clock reading until the next one
        return False

    async def pace(self) -> None:
        delay = self._paused_until - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _run(self) -> None:
        delay = self.bind.backoff_initial
        while not self._closing:
            before = self.binds
            try:
                await self._connect_and_serve()
            except Exception as exc:  # any loss, refusal or surprise: back off and reconnect
                self.failures += 1
                self.last_error = str(exc) or repr(exc)
                log.warning("smpp.link_down", bind=self.bind.label, why=self.last_error)
            if self._closing:
                break
            if self.binds > before:
                delay = self.bind.backoff_initial
            pause = delay * self._rng.uniform(0.5, 1.5)
            delay = min(delay * 2, self.bind.backoff_max)
            await asyncio.sleep(pause)

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
            self.binds += 1
            self.session = session
            self._bound.set()
            log.info("smpp.bound", bind=b.label)
            keepalive = asyncio.create_task(self._keepalive(session))
            await runner
        finally:
            self.session = None
            self._bound.clear()
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

    async def aclose(self, grace: float = 2.0) -> None:
        """Let handlers answer (``grace`` seconds), unbind politely and stop reconnecting."""
        self._closing = True
        await finish(self.tasks, grace)
        session = self.session
        if session is not None and not session.closed:
            await session.unbind(grace)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await finish(self.tasks, grace)  # handlers that started while we said goodbye
