"""The SMSC simulator's handsets over HTTP: a control app for the server, ``RemoteHandset`` for clients.

Routes (mounted e.g. under ``/smsc`` of the server's app with ``add_subapp``):

- ``POST /handsets/{msisdn}/send`` ``{"text", "to"?, "wait"?: bool}`` -> 202 ``{"msisdn", "parts"}``;
  with ``"wait": true`` it answers 200 once the ESME acknowledged every part (504 if it did not
  within 10 s).
- ``GET /handsets/{msisdn}/inbox?after=N&timeout=S`` -> ``{"msisdn", "next", "messages": [{"index",
  "from", "text", "at", "message_ids"}]}``: the MT texts from index ``N`` on; when there are none
  yet it waits up to ``S`` seconds (at most 30) for one (long poll). An ``after`` beyond the
  inbox (the simulator restarted) answers at once with the whole inbox and ``"reset": true``.

A malformed request answers 400 ``{"error"}``. Handsets are created on first use, as in-process.
Every call needs ``Authorization: Bearer TOKEN`` with one of the app's tokens (401 otherwise): an
inbox holds agents' one-time login codes. The server mounts it (demo mode) with ``[smpp]
simulator_token``; ``tokens=None`` leaves it open, for harnesses on loopback only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

from simulator.smsc_handset import Handset, Received
from smsmenu.core import tokens as auth

__all__ = ["Handsets", "RemoteHandset", "smsc_control_app"]


class Handsets(Protocol):
    """A simulated network with handsets: the SMSC simulator (SMPP) or the ISMG simulator (SMGP)."""

    def handset(self, msisdn: str) -> Handset: ...


SMSC = web.AppKey("smsc", Handsets)
CLOSING = web.AppKey("closing", asyncio.Event)
NUMBER = re.compile(r"\+?[0-9]{3,20}")
MAX_WAIT = 30.0
POLL_EVERY = 0.01
"""Seconds between looks at an inbox during a long poll (the handset has no arrival hook)."""


def _fail(why: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": why}), content_type="application/json")


def _number(request: web.Request) -> str:
    msisdn = request.match_info["msisdn"]
    if not NUMBER.fullmatch(msisdn):
        raise _fail("msisdn must be 3 to 20 digits")
    return msisdn


def _message(index: int, m: Received) -> dict[str, Any]:
    return {"index": index, "from": m.sender, "text": m.text, "at": m.at.isoformat(),
            "message_ids": list(m.message_ids)}


async def _send(request: web.Request) -> web.Response:
    msisdn = _number(request)
    try:
        body: Any = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise _fail("body must be a JSON object") from None
    text, to = (body.get("text"), body.get("to")) if isinstance(body, dict) else (None, None)
    if not isinstance(text, str) or len(text) > 1000:
        raise _fail("'text' must be a string of at most 1000 characters")
    if to is not None and (not isinstance(to, str) or not NUMBER.fullmatch(to)):
        raise _fail("'to' must be a number")
    ticket = await request.app[SMSC].handset(msisdn).send(text, to=to)
    answer = {"msisdn": msisdn, "parts": ticket.parts}
    if not body.get("wait"):
        return web.json_response(answer, status=202)
    try:
        await asyncio.wait_for(ticket.delivered(), 10.0)
    except TimeoutError:
        return web.json_response({**answer, "error": "not acknowledged by an ESME"}, status=504)
    return web.json_response({**answer, "attempts": ticket.attempts})


async def _inbox(request: web.Request) -> web.Response:
    msisdn = _number(request)
    try:
        after = int(request.query.get("after", "0"))
        wait = min(float(request.query.get("timeout", "0")), MAX_WAIT)
    except ValueError:
        raise _fail("after must be an integer and timeout a number") from None
    if after < 0 or wait < 0:
        raise _fail("after and timeout must not be negative")
    inbox = request.app[SMSC].handset(msisdn).inbox
    reset = after > len(inbox)  # the simulator restarted since the client's last look
    after = 0 if reset else after
    closing, loop = request.app[CLOSING], asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not reset and len(inbox) <= after and loop.time() < deadline and not closing.is_set():
        if request.transport is None or request.transport.is_closing():
            break  # the client gave up: do not hold the server's shutdown
        await asyncio.sleep(POLL_EVERY)
    messages = [_message(i, m) for i, m in enumerate(inbox[after:], start=after)]
    return web.json_response({"msisdn": msisdn, "next": len(inbox), "messages": messages,
                              **({"reset": True} if reset else {})},
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _guard(accepted: Sequence[str]) -> Middleware:
    @web.middleware
    async def guard(request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:  # fmt: skip
        auth.require(request, accepted, "the SMSC simulator's handset API")
        return await handler(request)

    return guard


def smsc_control_app(smsc: Handsets, *, tokens: Sequence[str] | None = None
                     ) -> web.Application:  # fmt: skip
    """The control API of ``smsc``'s handsets, the SMSC's or the ISMG simulator's (see the module
    docstring); ``tokens``: the Bearer tokens it wants (an empty list refuses every call; None:
    open)."""
    app = web.Application(middlewares=[] if tokens is None else [_guard(tuple(tokens))])
    app[SMSC], app[CLOSING] = smsc, asyncio.Event()

    async def closing(app: web.Application) -> None:
        app[CLOSING].set()  # long polls answer now, so the server stops without waiting

    app.on_shutdown.append(closing)
    app.router.add_post("/handsets/{msisdn}/send", _send)
    app.router.add_get("/handsets/{msisdn}/inbox", _inbox)
    return app


class RemoteHandset:
    """A handset of an SMSC simulator in another process: ``await send(text)``, ``receive()``.

    ``url`` is where the control app is mounted (e.g. ``http://127.0.0.1:8080/smsc``); ``inbox``
    holds every MT text fetched so far, in order.
    """

    def __init__(self, url: str, msisdn: str, *, http: aiohttp.ClientSession | None = None,
                 token: str = "") -> None:
        self.url = f"{url.rstrip('/')}/handsets/{msisdn}"
        self.msisdn = msisdn
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.inbox: list[Received] = []
        self._read = 0
        self._http = http
        self._own = http is None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    async def send(self, text: str, *, to: str | None = None, wait: bool = False) -> None:
        """An MO text to the service number (or ``to``); ``wait``: until the ESME acked it."""
        body: dict[str, Any] = {"text": text, "wait": wait, **({"to": to} if to else {})}
        async with self.http.post(f"{self.url}/send", json=body, headers=self.headers) as resp:
            if resp.status >= 300:
                raise ConnectionError(f"SMSC control: {resp.status} {await resp.text()}")

    async def poll(self, timeout: float = 0.0) -> list[Received]:  # noqa: ASYNC109
        """MT texts that arrived since the last poll, waiting up to ``timeout`` s for one."""
        query = {"after": str(len(self.inbox)), "timeout": str(timeout)}
        limit = aiohttp.ClientTimeout(total=timeout + 10.0)
        async with self.http.get(f"{self.url}/inbox", params=query, timeout=limit,
                                 headers=self.headers) as resp:
            if resp.status != 200:
                raise ConnectionError(f"SMSC control: {resp.status} {await resp.text()}")
            data = await resp.json()
        if data.get("reset"):
            self.inbox.clear()
            self._read = 0
        fresh = []
        for m in data["messages"]:
            if m["index"] == len(self.inbox):  # a concurrent poll may have taken it already
                received = Received(m["from"], m["text"], dt.datetime.fromisoformat(m["at"]),
                                    tuple(m["message_ids"]))
                self.inbox.append(received)
                fresh.append(received)
        return fresh

    async def receive(self, timeout: float = 5.0) -> Received:  # noqa: ASYNC109
        """The next MT text not yet returned by ``receive`` (``TimeoutError`` after ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._read >= len(self.inbox):
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no message for {self.msisdn} in {timeout} s")
            await self.poll(min(left, MAX_WAIT))
        self._read += 1
        return self.inbox[self._read - 1]

    async def aclose(self) -> None:
        if self._own and self._http is not None:
            await self._http.close()
