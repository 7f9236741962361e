"""Clients of a running server (`phone`, `load --server`) wait for its /healthz 200, bounded."""

from __future__ import annotations

import argparse
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from smsmenu.cli import load as cli_load
from smsmenu.cli import phone as cli_phone
from smsmenu.core.health import NotReady, wait_healthy

NOT_RECOVERED = {"ok": False, "ready": False, "ledger": True, "storage": "ok",
                 "recovered": False, "gateways": {}}
FAILING = {**NOT_RECOVERED, "recovered": True, "storage": "failing",
           "storage_error": "database or disk is full"}


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in server on 127.0.0.1: /healthz answers 503 with each queued body, then 200."""
    bodies: list[dict[str, Any]] = []

    async def healthz(request: web.Request) -> web.Response:
        if bodies:
            return web.json_response(bodies.pop(0), status=503)
        return web.json_response({**NOT_RECOVERED, "ok": True, "ready": True, "recovered": True})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", bodies
    await runner.cleanup()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_waits_and_says_so_once_until_200(
        server: tuple[str, list[dict[str, Any]]]) -> None:
    """Three 503s then 200: one line saying it waits and why, then it returns."""
    url, bodies = server
    bodies += [NOT_RECOVERED, NOT_RECOVERED, FAILING]
    said: list[str] = []
    await wait_healthy(url, wait=60.0, every=0.01, say=said.append)
    assert bodies == []
    assert said == [f"waiting up to 60 s for {url}/healthz to answer 200: {url}/healthz "
                    f"answered 503 (start-up recovery not finished)"]


@pytest.mark.parametrize("target, why", [
    pytest.param("failing", "answered 503 (storage failing: database or disk is full)",
                 id="storage-failing"),
    pytest.param("nothing", "cannot reach", id="nothing-listens"),
])
async def test_gives_up_with_the_last_reason(server: tuple[str, list[dict[str, Any]]],
                                             target: str, why: str) -> None:
    """Never ready within the bound: ``NotReady`` naming what the server last said."""
    url, bodies = server
    bodies += [FAILING] * 1000
    with pytest.raises(NotReady, match=r"not ready after 0\.1 s: ") as failed:
        await wait_healthy(url if target == "failing" else closed_port(), wait=0.1, every=0.01,
                           say=lambda line: None)
    assert why in str(failed.value)


def parse(register: Callable[[Any], None], *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(list(argv))


async def test_phone_exits_2_when_the_server_never_gets_ready(
        server: tuple[str, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str]) -> None:
    """`smsmenu phone --wait S`: prints that it waits, then the reason, and exits 2."""
    url, bodies = server
    bodies += [NOT_RECOVERED] * 1000
    args = parse(cli_phone.register, "phone", "--via", "http", "--server", url, "--wait", "0.1")
    assert await cli_phone.phone(args) == 2
    out = capsys.readouterr().out
    assert f"waiting up to 0.1 s for {url}/healthz to answer 200" in out
    assert "error: not ready after 0.1 s: " in out and "start-up recovery not finished" in out


async def test_load_exits_2_when_the_server_never_gets_ready(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`smsmenu load --server URL --wait S` against nothing: a clear error on stderr, exit 2."""
    url = closed_port()
    args = parse(cli_load.register, "load", "--server", url, "--wait", "0", "--quiet")
    assert await cli_load.load_command(args) == 2
    err = capsys.readouterr().err
    assert f"error: {url}: not ready after 0 s: cannot reach {url}/healthz" in err
