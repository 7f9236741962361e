"""The server's health report as its clients read it: wait until ``GET /healthz`` answers 200."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable
from typing import Any

import aiohttp

Report = dict[str, Any]
"""``/healthz``'s JSON body: ok, recovered, ledger, storage, storage_error, gateways."""
WAIT_S = 30.0
"""How long ``phone`` and ``load`` wait for a server to become ready by default."""
ASK_S = 5.0


def why_not(body: Report) -> str:
    """A report that is not ok, in a few words."""
    reasons = []
    if not body.get("recovered", True):
        reasons.append("start-up recovery not finished")
    if not body.get("ledger", True):
        reasons.append("ledger not answering")
    if body.get("storage", "ok") != "ok":
        reasons.append(f"storage failing: {body.get('storage_error', '?')}")
    down = [name for name, up in body.get("gateways", {}).items() if not up]
    if down:
        reasons.append(f"not bound: {', '.join(down)}")
    return "; ".join(reasons) or "not ok"


class NotReady(Exception):
    """The server did not answer ``/healthz`` 200 in time; the message says what it last said."""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def ask(http: aiohttp.ClientSession, url: str, timeout: float = ASK_S) -> str | None:  # noqa: ASYNC109
    """None when ``url`` answers 200; else why not, in a few words."""
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status == 200:
                return None
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = None
            why = why_not(body) if isinstance(body, dict) else "not a health report"
            return f"{url} answered {resp.status} ({why})"
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return f"cannot reach {url}: {exc or type(exc).__name__} (is `smsmenu serve` running?)"


async def wait_healthy(server: str, *, wait: float = WAIT_S, every: float = 0.5,
                       http: aiohttp.ClientSession | None = None,
                       say: Callable[[str], None] = _stderr) -> None:
    """Return once ``SERVER/healthz`` answers 200; ``say`` that we wait (once), and raise
    ``NotReady`` after ``wait`` seconds."""
    url = f"{server.rstrip('/')}/healthz"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    async with contextlib.AsyncExitStack() as stack:
        session = http if http is not None else await stack.enter_async_context(
            aiohttp.ClientSession())
        said = False
        while (why := await ask(session, url, max(1.0, min(ASK_S, deadline - loop.time())))):
            left = deadline - loop.time()
            if left <= 0:
                raise NotReady(f"not ready after {wait:g} s: {why}")
            if not said:
                say(f"waiting up to {wait:g} s for {url} to answer 200: {why}")
                said = True
            await asyncio.sleep(min(every, left))

