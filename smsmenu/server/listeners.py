"""A listener with bounded patience: idle connections closed, slow request bodies cut off (408)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def read_deadline(seconds: float) -> Middleware:
    """Middleware: the whole request body within ``seconds`` (else 408 and the connection
    closes), before any handler runs; multipart bodies are not taken at all (415), a malformed
    Content-Type is a 400."""

    @web.middleware
    async def deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            kind = request.content_type
            request.charset  # noqa: B018  (parsed now: a malformed header is refused here)
        except (IndexError, ValueError, LookupError):  # aiohttp's parser on a malformed header
            raise web.HTTPBadRequest(text="malformed Content-Type header") from None
        if request.body_exists:
            if kind.startswith("multipart/"):
                raise web.HTTPUnsupportedMediaType(text="multipart bodies are not accepted")
            try:
                async with asyncio.timeout(seconds):
                    await request.read()  # kept by the request for the handler's read/post/json
            except TimeoutError:
                slow = web.Response(status=408,
                                    text=f"request body not received within {seconds:g} s")
                slow.force_close()
                return slow
        return await handler(request)

    return deadline


LINGER_S = 1.0
"""After answering a request whose body did not arrive (408, 413), read what still comes for at
most this long (so the client sees the answer), then close."""


async def listen(app: web.Application, host: str, port: int, *,
                 idle_timeout: float) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port`` (0: a free port); the runner and the port taken.

    ``idle_timeout`` (aiohttp's keep-alive timeout) closes a connection that sends no complete
    request head within that long: at its start, and after each answer."""
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=idle_timeout,
                           lingering_time=min(LINGER_S, idle_timeout))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    addresses = runner.addresses
    return runner, int(addresses[0][1]) if addresses else port
