"""One SMGP login that keeps itself up: MD5 login, ActiveTest, back-off with jitter, Exit."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import structlog

from smsmenu.gateway.base import LinkHealth
from smsmenu.gateway.smgp_codec import Cmd, Status, status_text
from smsmenu.gateway.smgp_config import SmgpLinkConfig
from smsmenu.gateway.smgp_packets import Bare, Login, LoginResp
from smsmenu.gateway.smgp_report import client_authenticator, server_authenticator, timestamp
from smsmenu.gateway.smgp_session import InlineHandler, RequestHandler, SmgpSession
from smsmenu.gateway.smpp_session import finish

log = structlog.get_logger(__name__)


class LoginRefused(ConnectionError):
    """The ISMG answered the Login with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"login refused: {status_text(status)}")
        self.status = status


class SmgpLink:
    """``start()`` connects in the background; ``session`` is set while logged in."""

    def __init__(self, config: SmgpLinkConfig, on_request: RequestHandler,
                 rng: random.Random | None = None, *, inline: InlineHandler | None = None
                 ) -> None:  # fmt: skip
        self.config = config
        self.session: SmgpSession | None = None
        self.logins = 0
        self.failures = 0
        self.last_error = ""
        self._on_request = on_request
        self._inline = inline
        self._rng = rng or random.Random()
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._paused_until = 0.0
        self.tasks: set[asyncio.Task[None]] = set()
        """Deliver handlers still running, across reconnects (drained by ``aclose``)."""

    @property
    def bound(self) -> bool:
        return self.session is not None and not self.session.closed

    @property
    def in_flight(self) -> int:
        return self.session.in_flight if self.session else 0

    def health(self) -> LinkHealth:
        c = self.config
        return LinkHealth(c.label, self.bound, self.in_flight, c.window, self.logins,
                          self.failures, self.last_error)  # fmt: skip

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"smgp-link {self.config.label}")

    async def wait_bound(self) -> SmgpSession:
        """The logged-in session, once there is one."""
        while True:
            await self._up.wait()
            if self.session is not None and not self.session.closed:
                return self.session
            self._up.clear()

    def slow_down(self, attempt: int) -> float:
        """After a busy answer: hold every Submit on this link for a growing pause."""
        pause = min(self.config.throttle_delay * 2.0**attempt, self.config.backoff_max)
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + pause)
        return pause

    async def pace(self) -> None:
        """Wait out a pause ``slow_down`` set (at once when there is none)."""
        if self._paused_until:
            delay = self._paused_until - asyncio.get_running_loop().time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self._paused_until = 0.0

    async def _run(self) -> None:
        delay = self.config.backoff_initial
        while not self._closing:
            before = self.logins
            try:
                await self._connect_and_serve()
                if not self._closing:  # the ISMG closed it, or it went silent
                    self.failures += 1
                    self.last_error = "the link dropped"
            except Exception as exc:  # any loss, refusal or surprise: back off and reconnect
                self.failures += 1
                self.last_error = str(exc) or repr(exc)
                log.warning("smgp.link_down", link=self.config.label, why=self.last_error)
            if self._closing:
                break
            if self.logins > before:
                delay = self.config.backoff_initial
            pause = delay * self._rng.uniform(0.5, 1.5)
            delay = min(delay * 2, self.config.backoff_max)
            await asyncio.sleep(pause)

    async def _connect_and_serve(self) -> None:
        c = self.config
        reader, writer = await asyncio.wait_for(asyncio.open_connection(c.host, c.port),
                                                c.connect_timeout)  # fmt: skip
        session = SmgpSession(reader, writer, self._on_request, window=c.window,
                              response_timeout=c.response_timeout, name=c.label, tasks=self.tasks,
                              handlers=c.inbound_window, inline=self._inline)  # fmt: skip
        runner = asyncio.create_task(session.run())
        keepalive: asyncio.Task[None] | None = None
        try:
            stamp = timestamp(dt.datetime.now(dt.UTC).astimezone())
            mine = client_authenticator(c.client_id, c.secret, stamp)
            resp = await session.request(Login(c.client_id, mine, c.mode, stamp))
            if not isinstance(resp, LoginResp) or resp.status != Status.OK:
                raise LoginRefused(resp.status if isinstance(resp, LoginResp) else -1)
            if resp.authenticator.strip(b"\0") and \
                    resp.authenticator != server_authenticator(resp.status, mine, c.secret):
                log.warning("smgp.server_authenticator_mismatch", link=c.label)  # fmt: skip
            self.logins += 1
            self.session = session
            self._up.set()
            log.info("smgp.logged_in", link=c.label)
            keepalive = asyncio.create_task(self._keepalive(session))
            await runner
        finally:
            self.session = None
            self._up.clear()
            tasks = [runner] if keepalive is None else [runner, keepalive]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await session.aclose()

    async def _keepalive(self, session: SmgpSession) -> None:
        """ActiveTest when the ISMG was quiet for an interval; after ``active_test_retries``
        unanswered in a row the link is dropped (and made again)."""
        c, loop = self.config, asyncio.get_running_loop()
        missed = 0
        while not session.closed:
            quiet = loop.time() - session.last_heard
            if quiet < c.active_test_interval:
                await asyncio.sleep(c.active_test_interval - quiet)
                continue
            try:
                await session.request(Bare(Cmd.ACTIVE_TEST))
                missed = 0
            except TimeoutError:
                missed += 1
                log.warning("smgp.active_test_unanswered", link=c.label, missed=missed)
                if missed >= c.active_test_retries:
                    session.close()
            except ConnectionError:
                return

    async def aclose(self, grace: float = 2.0) -> None:
        """Let handlers answer (``grace`` s), send Exit and stop reconnecting."""
        self._closing = True
        await finish(self.tasks, grace)
        session = self.session
        if session is not None and not session.closed:
            await session.exit(grace)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await finish(self.tasks, grace)
