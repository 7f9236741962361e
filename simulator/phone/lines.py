"""How the phone reaches the platform: as SMSC handsets (control API) or over the HTTP SMS API."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from typing import Protocol

import aiohttp

from simulator.phone.say import failure
from simulator.smsc_handset import Received
from simulator.smsc_http import RemoteHandset

Deliver = Callable[[str, Received], None]
"""``deliver(msisdn, message)``: an MT text reached the handset ``msisdn``."""
SERVICE = "10658"


class Line(Protocol):
    """A transport for several handsets; MT texts are handed to ``deliver`` as they arrive."""

    name: str
    errors: list[str]
    """Problems met in the background (receiving); the phone shows new ones."""

    def watch(self, msisdn: str) -> None:
        """Start receiving the texts sent to ``msisdn``."""

    async def send(self, msisdn: str, text: str) -> None:
        """One MO text from ``msisdn`` to the service."""

    async def aclose(self) -> None: ...


class HttpLine:
    """``POST /api/sms``: the answer carries the replies (the agent's, then notices to others)."""

    name = "http"

    def __init__(self, server: str, deliver: Deliver, token: str = "") -> None:
        self.url = f"{server.rstrip('/')}/api/sms"
        self.deliver = deliver
        self.headers = {"Authorization": f"Bearer {token}"}
        self._http: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self._run = uuid.uuid4().hex[:8]
        self.errors: list[str] = []

    def watch(self, msisdn: str) -> None:
        """Nothing to do: every reply comes back in the answer to its message."""

    async def send(self, msisdn: str, text: str) -> None:
        self._http = self._http or aiohttp.ClientSession()
        body = {"from": msisdn, "text": text, "id": f"phone-{self._run}-{next(self._ids)}"}
        async with self._http.post(self.url, json=body, headers=self.headers) as resp:
            data = await resp.json(content_type=None)
            if resp.status != 200:
                error = data.get("error", {}) if isinstance(data, dict) else {}
                raise ConnectionError(f"HTTP {resp.status}: {error.get('message', data)}")
        now = dt.datetime.now(dt.UTC)
        for reply in data["replies"]:
            self.deliver(reply["to"], Received(SERVICE, reply["text"], now))

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()


class SmscLine:
    """Handsets of the SMSC simulator, driven through its control API (``simulator.smsc_http``)."""

    name = "smsc"

    def __init__(self, control: str, deliver: Deliver, *, history: bool = True,
                 poll: float = 20.0, token: str = "") -> None:
        self.control = control
        self.token = token
        self.deliver = deliver
        self.history = history
        """False: texts already in an inbox when watching starts are skipped (scripted mode)."""
        self.poll = poll
        self.handsets: dict[str, RemoteHandset] = {}
        self._ready: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None
        self.errors: list[str] = []

    def _handset(self, msisdn: str) -> RemoteHandset:
        if msisdn not in self.handsets:
            self._http = self._http or aiohttp.ClientSession()
            self.handsets[msisdn] = RemoteHandset(self.control, msisdn, http=self._http,
                                                  token=self.token)
            self._ready[msisdn] = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._listen(self.handsets[msisdn])))
        return self.handsets[msisdn]

    def watch(self, msisdn: str) -> None:
        self._handset(msisdn)

    async def _listen(self, handset: RemoteHandset) -> None:
        while True:
            try:
                if not self._ready[handset.msisdn].is_set():
                    old = await handset.poll(0.0)
                    self._ready[handset.msisdn].set()
                    if self.history:
                        for message in old:
                            self.deliver(handset.msisdn, message)
                for message in await handset.poll(self.poll):
                    self.deliver(handset.msisdn, message)
            except (aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
                self.errors.append(f"{handset.msisdn}: {failure(exc)}")
                await asyncio.sleep(1.0)

    async def send(self, msisdn: str, text: str) -> None:
        """Sent once every watched inbox was looked at (so no reply is taken for history)."""
        handset = self._handset(msisdn)
        async with asyncio.timeout(10.0):
            for ready in list(self._ready.values()):
                await ready.wait()
        await handset.send(text)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()


def make_line(via: str, deliver: Deliver, server: str, control: str | None = None, *,
              history: bool = True, token: str = "") -> Line:
    """``via`` ``http`` or ``smsc``; the control API defaults to ``{server}/smsc``; ``token``:
    the ``[api] token`` (http) or the handset API's (smsc)."""
    if via == "http":
        return HttpLine(server, deliver, token)
    return SmscLine(control or f"{server.rstrip('/')}/smsc", deliver, history=history,
                    token=token)
