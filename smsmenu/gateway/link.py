"""One transport link that keeps itself up (SMPP bind, SMGP login): back-off with jitter, pauses."""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from typing import Generic, Protocol, TypeVar

import structlog

from smsmenu.gateway.base import LinkHealth
from smsmenu.gateway.smpp_session import finish

log = structlog.get_logger(__name__)


class LinkConfig(Protocol):
    """What the shared part reads of a link's settings (``SmppBind``, ``SmgpLinkConfig``)."""

    @property
    def label(self) -> str: ...
    @property
    def window(self) -> int: ...
    @property
    def backoff_initial(self) -> float: ...
    @property
    def backoff_max(self) -> float: ...
    @property
    def throttle_delay(self) -> float: ...


class LinkSession(Protocol):
    @property
    def closed(self) -> bool: ...
    @property
    def in_flight(self) -> int: ...


C = TypeVar("C", bound=LinkConfig)
S = TypeVar("S", bound=LinkSession)


class Link(ABC, Generic[C, S]):
    """``start()`` connects in the background; ``session`` is set while the link is up.

    A protocol gives ``_connect_and_serve`` (connect, log in, ``_went_up(session)``, serve until
    the link ends, ``_went_down()``) and ``_goodbye`` (unbind, Exit). Every loss, refusal or
    surprise counts as a failure and is retried after a pause that doubles up to
    ``backoff_max`` (jittered ×0.5-1.5) and starts again from ``backoff_initial`` once a
    connection came up; ``aclose`` lets handlers answer, says goodbye and stops retrying.
    """

    protocol = "link"
    """The logs' prefix (``smpp``, ``smgp``)."""

    def __init__(self, config: C, rng: random.Random | None = None) -> None:
        self.config = config
        self.session: S | None = None
        self.ups = 0
        """Connections that came up (binds, logins)."""
        self.failures = 0
        self.last_error = ""
        self._rng = rng or random.Random()
        self._up = asyncio.Event()
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
        c = self.config
        return LinkHealth(c.label, self.bound, self.in_flight, c.window, self.ups,
                          self.failures, self.last_error)

    def start(self) -> None:
        if self._task is None:
            name = f"{self.protocol}-link {self.config.label}"
            self._task = asyncio.create_task(self._run(), name=name)

    async def wait_bound(self) -> S:
        """The session once the link is up (wrap in ``asyncio.wait_for`` for a limit)."""
        while True:
            await self._up.wait()
            if self.session is not None and not self.session.closed:
                return self.session
            self._up.clear()

    def slow_down(self, attempt: int) -> float:
        """After a throttling (busy) answer: hold every submit on this link for a growing pause."""
        pause = min(self.config.throttle_delay * 2.0**attempt, self.config.backoff_max)
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
        """Wait out a pause ``slow_down`` set (at once when there is none)."""
        delay = self._paused_until - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _went_up(self, session: S) -> None:
        self.ups += 1
        self.session = session
        self._up.set()

    def _went_down(self) -> None:
        self.session = None
        self._up.clear()

    @abstractmethod
    async def _connect_and_serve(self) -> None:
        """Connect, log in, ``_went_up(session)``, serve until the link ends, ``_went_down()``."""

    @abstractmethod
    async def _goodbye(self, session: S, grace: float) -> None:
        """End the session politely (SMPP unbind, SMGP Exit) within ``grace`` seconds."""

    async def _run(self) -> None:
        delay = self.config.backoff_initial
        while not self._closing:
            before = self.ups
            try:
                await self._connect_and_serve()
                if not self._closing:  # the far end closed it, or it went silent
                    self.failures += 1
                    self.last_error = "the link dropped"
            except Exception as exc:  # any loss, refusal or surprise: back off and reconnect
                self.failures += 1
                self.last_error = str(exc) or repr(exc)
                log.warning(f"{self.protocol}.link_down", link=self.config.label,
                            why=self.last_error)
            if self._closing:
                break
            if self.ups > before:
                delay = self.config.backoff_initial
            pause = delay * self._rng.uniform(0.5, 1.5)
            delay = min(delay * 2, self.config.backoff_max)
            await asyncio.sleep(pause)

    async def aclose(self, grace: float = 2.0) -> None:
        """Let handlers answer (``grace`` s), say goodbye and stop reconnecting."""
        self._closing = True
        await finish(self.tasks, grace)
        session = self.session
        if session is not None and not session.closed:
            await self._goodbye(session, grace)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await finish(self.tasks, grace)  # handlers that started while we said goodbye
