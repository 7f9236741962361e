"""USSD callback bodies: the same fields as a form or as JSON; other types, missing fields,
oversized bodies refused with a reason; a repeated callback is logged as a replay."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
import structlog

from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.server.main import Running, running

AGENT, CUSTOMER = "18912345678", "18012345678"
INPUTS = ["1", "2", CUSTOMER, "50", "1", "123456"]
TOKEN = "ussd-token-0123456789abc"
FORM, JSON = "application/x-www-form-urlencoded", "application/json"


@pytest.fixture
async def server(settings: Settings, clock: ManualClock, billing: BillingSimulator
                 ) -> AsyncIterator[tuple[Running, aiohttp.ClientSession]]:
    """The server on free ports with a ``[ussd] token``, the agent (500 yuan) and a client
    that sends the token."""
    settings = (settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
                .replace("ussd", token=(TOKEN,)))
    async with running(settings, clock=clock, billing=billing) as run, \
            aiohttp.ClientSession(base_url=run.http_url,
                                  headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        await run.ledger.open_agent(msisdn=AGENT, name="小王", tx_password="123456",
                                    mgmt_password="654321")
        await run.ledger.deposit(key="seed", msisdn=AGENT, amount_fen=50_000, channel="counter")
        yield run, http


async def callback(http: aiohttp.ClientSession, kind: str, fields: dict[str, str]) -> str:
    """One callback with ``fields`` as a form or a JSON object; the 200 answer's text."""
    body = json.dumps(fields) if kind == "json" else None
    async with http.post("/ussd", data=body if body is not None else fields,
                         headers={"Content-Type": JSON} if body is not None else {}) as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        return await resp.text()


async def refused(http: aiohttp.ClientSession, body: bytes,
                  content_type: str | None) -> tuple[int, dict[str, str]]:
    """A callback expected to fail: its status and JSON error."""
    headers = {"Content-Type": content_type} if content_type else {}
    async with http.post("/ussd", data=body, headers=headers) as resp:
        assert resp.content_type == "application/json"
        error: dict[str, str] = (await resp.json())["error"]
        return resp.status, error


async def inbox_count(run: Running) -> int:
    """Key presses the engine took (each leaves its key in the inbox)."""
    found = await run.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT COUNT(*) FROM inbox").fetchone()[0])
    return int(found)


@pytest.mark.parametrize("kind", ["form", "json"])
async def test_a_recharge_dialog_as_form_or_json(
        server: tuple[Running, aiohttp.ClientSession], kind: str) -> None:
    """The same fields as a form or as JSON: the same CON screens and the END receipt; it pays."""
    run, http = server
    base = {"sessionId": f"s-{kind}", "serviceCode": "*100#", "phoneNumber": AGENT}
    assert await callback(http, kind, {**base, "text": ""}) == (
        "CON 空中充值\n1充值\n2异常处理\n3账户管理\n4业务管理")
    screens = [await callback(http, kind, {**base, "text": "*".join(INPUTS[:n + 1])})
               for n in range(len(INPUTS))]
    assert screens[3] == "CON 请核对\nC网手机18012345678\n充值50.00元 扣款49.00元\n1确认 0返回"
    assert re.fullmatch(r"END 充值成功 手机18012345678 50\.00元 佣金1\.00元 "
                        r"余额451\.00元 单号\d{10}\n0主菜单", screens[5])
    assert (await run.ledger.agent(AGENT)).balance_fen == 45_100


async def test_json_may_omit_text_and_carry_extra_fields(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """JSON without ``text`` (or null) is the first callback; unknown fields (networkCode) are
    ignored; a ``charset`` parameter is allowed."""
    _, http = server
    body = json.dumps({"sessionId": "j", "phoneNumber": AGENT, "networkCode": "46003",
                       "text": None}).encode()
    async with http.post("/ussd", data=body,
                         headers={"Content-Type": f"{JSON}; charset=utf-8"}) as resp:
        assert resp.status == 200
        assert (await resp.text()).startswith("CON 空中充值")


@pytest.mark.parametrize(("content_type", "body"), [
    pytest.param("text/plain", b"sessionId=s&phoneNumber=18912345678", id="text-plain"),
    pytest.param("application/octet-stream", b'{"sessionId": "s"}', id="octet-stream"),
    pytest.param("application/json-seq", b'{"sessionId": "s"}', id="json-seq"),
    pytest.param("application/xml", b"<sessionId>s</sessionId>", id="xml"),
])
async def test_another_body_type_is_a_415_naming_both(
        server: tuple[Running, aiohttp.ClientSession], content_type: str, body: bytes) -> None:
    """Anything but a form or JSON: 415 with a JSON error naming the two accepted types
    (multipart is refused before, by the listener: test_ussd)."""
    run, http = server
    status, error = await refused(http, body, content_type)
    assert status == 415 and error["code"] == "E_MEDIA_TYPE"
    assert error["message"] == f"send Content-Type: {FORM} or {JSON}"
    assert await inbox_count(run) == 0


@pytest.mark.parametrize(("content_type", "body", "says"), [
    pytest.param(JSON, b'{"phoneNumber": "18912345678", "text": ""}', "lacks sessionId (",
                 id="json-no-session"),
    pytest.param(JSON, b'{"sessionId": "s", "phoneNumber": ""}', "lacks phoneNumber (",
                 id="json-empty-phone"),
    pytest.param(FORM, b"serviceCode=*100%23&text=", "lacks sessionId and phoneNumber (",
                 id="form-neither"),
    pytest.param(None, b"", "lacks sessionId and phoneNumber (", id="no-body"),
    pytest.param(FORM, b'{"sessionId": "s", "phoneNumber": "18912345678", "text": ""}',
                 f"; the body is JSON: send Content-Type: {JSON}", id="json-sent-as-form"),
    pytest.param(JSON, b'{"sessionId": "s", "phoneNumber": 18912345678}',
                 "'phoneNumber' must be a string", id="json-number-phone"),
    pytest.param(JSON, b'{"sessionId": "s", "phoneNumber": "18912345678", "text": ["1"]}',
                 "'text' must be a string", id="json-list-text"),
    pytest.param(JSON, b'{"sessionId": "\\ud800", "phoneNumber": "18912345678"}',
                 "'sessionId' must be a string", id="json-surrogate"),
    pytest.param(JSON, b'[{"sessionId": "s"}]', "must be a JSON object with sessionId, "
                 "serviceCode, phoneNumber, text", id="json-array"),
    pytest.param(JSON, b"sessionId=s&phoneNumber=18912345678", "must be a JSON object",
                 id="form-sent-as-json"),
    pytest.param(JSON, b"\xff\xfe{", "must be a JSON object", id="json-not-utf8"),
    pytest.param(JSON, b'{"sessionId": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
                 "must be a JSON object", id="json-deeply-nested"),
    pytest.param(JSON, b'{"sessionId": "s", "phoneNumber": "1891234567x"}',
                 "phoneNumber must be a phone number of digits", id="json-bad-phone"),
    pytest.param(JSON, json.dumps({"sessionId": "s" * 129, "phoneNumber": AGENT}).encode(),
                 "sessionId must be at most 128 characters", id="json-long-session"),
])
async def test_a_bad_callback_is_a_400_saying_what_is_wrong(
        server: tuple[Running, aiohttp.ClientSession], content_type: str | None, body: bytes,
        says: str) -> None:
    """Missing fields (named, with the full field list), wrong value types, unreadable JSON,
    JSON posted as a form (curl -d without -H): 400 with the reason, never a 500; nothing run."""
    run, http = server
    status, error = await refused(http, body, content_type)
    assert status == 400 and error["code"] == "E_COMMAND"
    assert says in error["message"]
    if "lacks" in says:
        assert "(fields: sessionId, serviceCode, phoneNumber, text)" in error["message"]
    assert await inbox_count(run) == 0


@pytest.mark.parametrize("kind", ["form", "json"])
async def test_an_oversized_body_is_a_413(server: tuple[Running, aiohttp.ClientSession],
                                          kind: str) -> None:
    """A callback over the listener's 64 KiB body limit, form or JSON: 413, nothing run."""
    run, http = server
    fields = {"sessionId": "big", "phoneNumber": AGENT, "text": "1*" * 40_000}
    data = json.dumps(fields) if kind == "json" else fields
    headers = {"Content-Type": JSON} if kind == "json" else {}
    async with http.post("/ussd", data=data, headers=headers) as resp:
        assert resp.status == 413
        assert "Traceback" not in await resp.text()
    assert await inbox_count(run) == 0


async def test_a_repeated_callback_is_logged_as_a_replay(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """The aggregator repeats a callback: the same screen, logged ``ussd.replayed`` (the first
    delivery is not)."""
    _, http = server
    fields = {"sessionId": "r", "phoneNumber": AGENT, "text": "3"}
    with structlog.testing.capture_logs() as logs:
        await callback(http, "json", {**fields, "text": ""})
        first = await callback(http, "json", fields)
        assert not [e for e in logs if e["event"] == "ussd.replayed"]
        again = await callback(http, "form", fields)
    assert again == first and first.startswith("CON 账户管理")
    assert [(e["session"], e["input"]) for e in logs if e["event"] == "ussd.replayed"] == [
        ("r", 0)]
