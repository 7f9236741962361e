"""The phone tells a tester what failed in plain words, and dates messages in Beijing time."""

from __future__ import annotations

import datetime as dt

import aiohttp
import pytest

from simulator.phone.say import clock, failure


@pytest.mark.parametrize(("exc", "said"), [
    pytest.param(ConnectionRefusedError(111, "Connection refused"),
                 "the server does not answer (is `smsmenu serve` running?)", id="refused"),
    pytest.param(aiohttp.ClientConnectorError.__new__(aiohttp.ClientConnectorError),
                 "the server does not answer (is `smsmenu serve` running?)", id="connector"),
    pytest.param(TimeoutError(), "the server did not answer in time", id="timeout"),
    pytest.param(aiohttp.ServerDisconnectedError(), "the connection to the server failed",
                 id="disconnected"),
    pytest.param(ConnectionError("HTTP 401: missing or wrong token"),
                 "HTTP 401: missing or wrong token", id="http-error-says-why"),
    pytest.param(ConnectionResetError(104, "Connection reset by peer"),
                 "the connection to the server failed", id="reset"),
    pytest.param(ValueError("bad reply"), "bad reply", id="other"),
])
def test_failures_are_said_without_the_clients_internals(exc: BaseException, said: str) -> None:
    """A failure reads as a sentence; no ConnectionKey(...) or repr reaches a toast."""
    assert failure(exc) == said


def test_inbox_times_are_beijing_time() -> None:
    """A message received at 02:05 UTC shows 10:05, as the times inside the server's texts."""
    assert clock(dt.datetime(2026, 11, 10, 2, 5, 0, tzinfo=dt.UTC)) == "10:05:00"
