"""The SMSC simulator's handset API over HTTP, driven by ``RemoteHandset`` with a real ESME bound."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from simulator.smsc import SmscSimulator
from simulator.smsc_handset import Received
from simulator.smsc_http import RemoteHandset, smsc_control_app
from smsmenu.core.types import Inbound, Reply
from smsmenu.gateway.base import FunctionHandler
from smsmenu.gateway.smpp import SmppGateway
from smsmenu.gateway.smpp_config import SmppBind

PHONE = "18912345678"
TOKEN = "smsc-control-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Rig:
    smsc: SmscSimulator
    url: str
    gateway: SmppGateway
    seen: list[Inbound]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    """An SMSC simulator, its control app (wanting TOKEN) on a free port, and an ESME that
    echoes every MO."""
    async with SmscSimulator({"esme": "secret"}, retry_delay=0.01) as smsc:
        seen: list[Inbound] = []
        tasks: set[asyncio.Task[object]] = set()
        gateway = SmppGateway(SmppBind("esme", "secret", "127.0.0.1", smsc.port,
                                       source_addr="10658", backoff_initial=0.02))

        async def echo(msg: Inbound) -> list[Reply]:
            seen.append(msg)
            task = asyncio.create_task(gateway.send(Reply(msg.msisdn, f"echo {msg.text}")))
            tasks.add(task)
            return []

        gateway.attach(FunctionHandler(echo))
        gateway.start()
        await asyncio.wait_for(gateway.wait_bound(), 5)
        runner = web.AppRunner(smsc_control_app(smsc, tokens=[TOKEN]))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            yield Rig(smsc, f"http://127.0.0.1:{runner.addresses[0][1]}", gateway, seen)
        finally:
            await gateway.aclose()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runner.cleanup()


async def test_remote_handset_round_trip(rig: Rig) -> None:
    """send() reaches the ESME as MO over SMPP; the reply comes back through receive()."""
    phone = RemoteHandset(rig.url, PHONE, token=TOKEN)
    try:
        await phone.send("1")
        got = await phone.receive(timeout=5)
        await phone.send("充值")
        got2 = await phone.receive(timeout=5)
    finally:
        await phone.aclose()
    assert (got.sender, got.text, got2.text) == ("10658", "echo 1", "echo 充值")
    assert [m.text for m in rig.seen] == ["1", "充值"]
    assert [m.text for m in rig.smsc.handset(PHONE).inbox] == ["echo 1", "echo 充值"]


async def test_inbox_long_poll_waits_for_a_text(rig: Rig) -> None:
    """GET inbox?after=N waits until a text arrives, then answers with it and the next index."""
    async with aiohttp.ClientSession(headers=BEARER) as http:
        url = f"{rig.url}/handsets/{PHONE}/inbox"
        poll = asyncio.create_task(http.get(url, params={"after": "0", "timeout": "5"}))
        await asyncio.sleep(0.1)
        assert not poll.done()
        await rig.smsc.handset(PHONE).send("hi")
        async with await poll as resp:
            data = await resp.json()
        assert data["next"] == 1
        assert [(m["index"], m["from"], m["text"]) for m in data["messages"]] == [
            (0, "10658", "echo hi")]
        start = time.perf_counter()
        async with http.get(url, params={"after": "1", "timeout": "0.2"}) as resp:
            empty = await resp.json()
        assert empty == {"msisdn": PHONE, "next": 1, "messages": []}
        assert 0.15 < time.perf_counter() - start < 2


async def test_send_wait_returns_after_the_esme_acked(rig: Rig) -> None:
    """``"wait": true`` answers 200 once the ESME acknowledged the deliver_sm."""
    async with aiohttp.ClientSession(headers=BEARER) as http:
        async with http.post(f"{rig.url}/handsets/{PHONE}/send",
                             json={"text": "x" * 200, "wait": True}) as resp:
            assert resp.status == 200
            data = await resp.json()
        assert data["parts"] == 2 and data["attempts"] == 2
        assert rig.seen[-1].text == "x" * 200  # joined again by the ESME


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/handsets/abc/send", {"text": "1"}),
    ("post", f"/handsets/{PHONE}/send", {"text": 1}),
    ("post", f"/handsets/{PHONE}/send", {"text": "1", "to": "x"}),
    ("post", f"/handsets/{PHONE}/send", None),
    ("get", f"/handsets/{PHONE}/inbox?after=-1", None),
    ("get", f"/handsets/{PHONE}/inbox?timeout=soon", None),
])
async def test_malformed_requests_answer_400(rig: Rig, method: str, path: str,
                                             body: object) -> None:
    """A request the API cannot read is a 400 with an error text, and sends nothing."""
    async with aiohttp.ClientSession() as http:
        kwargs = {"json": body} if body is not None else {"data": b"not json"}
        async with http.request(method, rig.url + path, headers=BEARER,
                                **(kwargs if method == "post" else {})) as resp:
            assert resp.status == 400
            assert "error" in await resp.json()
    assert rig.seen == []


async def test_receive_times_out_without_a_text(rig: Rig) -> None:
    """RemoteHandset.receive raises TimeoutError like the in-process handset."""
    phone = RemoteHandset(rig.url, "13300000000", token=TOKEN)
    try:
        with pytest.raises(TimeoutError):
            await phone.receive(timeout=0.2)
    finally:
        await phone.aclose()


async def test_a_restarted_simulator_resets_the_remote_inbox(rig: Rig) -> None:
    """A client that saw more texts than the inbox holds gets the whole inbox and starts over."""
    phone = RemoteHandset(rig.url, PHONE, token=TOKEN)
    old = Received("10658", "before the restart", dt.datetime.now(dt.UTC))
    phone.inbox, phone._read = [old] * 5, 5
    try:
        await phone.send("new")
        got = await phone.receive(timeout=5)
    finally:
        await phone.aclose()
    assert got.text == "echo new" and [m.text for m in phone.inbox] == ["echo new"]


@pytest.mark.parametrize("headers", [
    pytest.param({}, id="no-token"),
    pytest.param({"Authorization": "Bearer wrong-token-0123456789"}, id="wrong-token"),
    pytest.param({"Authorization": f"Basic {TOKEN}"}, id="not-bearer"),
])
async def test_every_call_wants_the_token(rig: Rig, headers: dict[str, str]) -> None:
    """An inbox holds agents' login codes: without the token, 401 to read or send, nothing sent."""
    await rig.smsc.handset(PHONE).send("hello")
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{rig.url}/handsets/{PHONE}/inbox") as resp:
            assert resp.status == 401
            assert "echo" not in await resp.text()
        async with http.post(f"{rig.url}/handsets/{PHONE}/send", json={"text": "x"}) as resp:
            assert resp.status == 401
    assert [m.text for m in rig.seen] == ["hello"]


async def test_an_empty_token_list_refuses_every_call() -> None:
    """``tokens=[]`` (no [smpp] simulator_token): the API answers 401 to everyone."""
    async with SmscSimulator({}) as smsc:
        runner = web.AppRunner(smsc_control_app(smsc, tokens=[]))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/handsets/{PHONE}/inbox"
        try:
            async with aiohttp.ClientSession() as http:
                for headers in ({}, {"Authorization": "Bearer "}, BEARER):
                    async with http.get(url, headers=headers) as resp:
                        assert resp.status == 401
        finally:
            await runner.cleanup()
