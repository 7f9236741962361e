"""What the phone shows a tester when something fails or arrives: plain words, business time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import aiohttp

from smsmenu.core.clock import BUSINESS_TZ

LOCAL = ZoneInfo(BUSINESS_TZ)
"""The time zone the server writes its messages in (Beijing): the inbox's headers match them."""


def clock(at: dt.datetime) -> str:
    """A message's time as the handset shows it (HH:MM:SS, business time zone)."""
    return f"{at.astimezone(LOCAL):%H:%M:%S}"


def failure(exc: BaseException) -> str:
    """A line or send failure in a few words, never a repr of the client's internals."""
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return "the server does not answer (is `smsmenu serve` running?)"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"the server answered HTTP {exc.status}"
    if isinstance(exc, aiohttp.ClientError):
        return "the connection to the server failed"
    text = str(exc).strip()  # our own errors say what happened ("HTTP 401: ...")
    if isinstance(exc, OSError) and (not text or exc.errno is not None):
        return "the connection to the server failed"
    return text[:120] if text else type(exc).__name__
