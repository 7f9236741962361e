"""HTTP/JSON transport over a real socket: ``POST /api/sms`` dialogs, bad requests, redelivery."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.server.main import Running, running

pytestmark = pytest.mark.both_engines

AGENT, CUSTOMER = "18912345678", "18012345678"
DIALOG = ["1", "2", CUSTOMER, "50", "1", "123456"]
TOKEN, OLD_TOKEN = "api-token-new-0123456789", "api-token-old-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def server(settings: Settings, clock: ManualClock,
                 billing: BillingSimulator) -> AsyncIterator[Running]:
    """The whole server on free ports, with the agent open and 500 yuan deposited; two API
    tokens (a rotation)."""
    settings = (settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
                .replace("api", token=(TOKEN, OLD_TOKEN)))
    async with running(settings, clock=clock, billing=billing) as run:
        await run.ledger.open_agent(msisdn=AGENT, name="小王", tx_password="123456",
                                    mgmt_password="654321")
        await run.ledger.deposit(key="seed", msisdn=AGENT, amount_fen=50_000, channel="counter")
        yield run


@pytest.fixture
async def http(server: Running) -> AsyncIterator[aiohttp.ClientSession]:
    """A client that sends the API token."""
    async with aiohttp.ClientSession(base_url=server.http_url, headers=BEARER) as session:
        yield session


async def sms(http: aiohttp.ClientSession, text: str, ident: str | int | None = None,
              sender: str = AGENT) -> list[dict[str, str]]:
    body: dict[str, Any] = {"from": sender, "text": text}
    if ident is not None:
        body["id"] = ident
    async with http.post("/api/sms", json=body) as resp:
        assert resp.status == 200 and resp.content_type == "application/json"
        replies: list[dict[str, str]] = (await resp.json())["replies"]
        return replies


async def outbox(run: Running) -> list[tuple[str, str, str, str | None]]:
    return await run.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT to_msisdn, kind, status, gateway FROM outbox WHERE kind IN ('menu', 'receipt', "
        "'customer') ORDER BY id").fetchall())


async def test_a_recharge_dialog_over_http(http: aiohttp.ClientSession, server: Running) -> None:
    """Each POST answers the screen; the password answers the receipt first, then the notice."""
    screens = [await sms(http, text, f"m{n}") for n, text in enumerate(DIALOG)]
    assert [s[0]["text"].split("\n")[0] for s in screens[:5]] == [
        "充值", "请输入C网手机号码", "请输入金额(10-1000元,10的倍数)", "请核对", "请输入交易密码"]
    receipt, notice = screens[5]
    assert receipt["to"] == AGENT and receipt["text"].startswith(
        "充值成功 手机18012345678 50.00元 佣金1.00元 余额451.00元 单号0")
    assert notice == {"to": CUSTOMER, "text": "【中国电信】您的手机18012345678于11-10 10:00成功充值50.00元。"}
    assert (await server.ledger.agent(AGENT)).balance_fen == 45_100


async def test_replies_are_marked_sent_by_http_in_the_outbox(http: aiohttp.ClientSession,
                                                             server: Running) -> None:
    """What the answer carried (screens, receipt, customer notice) is 'sent' via 'http'."""
    for n, text in enumerate(DIALOG):
        await sms(http, text, f"m{n}")
    rows = await outbox(server)
    assert len(rows) == 7 and rows[-2:] == [(AGENT, "receipt", "sent", "http"),
                                            (CUSTOMER, "customer", "sent", "http")]
    assert {(status, gateway) for _, _, status, gateway in rows} == {("sent", "http")}


@pytest.mark.parametrize("ident", [pytest.param("abc-1", id="string"), pytest.param(7, id="int")])
async def test_a_repeated_id_gets_the_same_replies_and_changes_nothing(
        http: aiohttp.ClientSession, server: Running, ident: str | int) -> None:
    """The same (from, id) again: the same answer; the menu and the money do not move twice."""
    for n, text in enumerate(DIALOG[:-1]):
        await sms(http, text, f"m{n}")
    first = await sms(http, "123456", ident)
    again = await sms(http, "123456", ident)
    assert again == first and first[0]["text"].startswith("充值成功")
    assert (await server.ledger.agent(AGENT)).balance_fen == 45_100
    assert len(await outbox(server)) == 7
    menu = await sms(http, "1", "next")
    assert menu[0]["text"].startswith("充值\n1固定电话")


async def answer(http: aiohttp.ClientSession, text: str, ident: str) -> dict[str, Any]:
    """The whole JSON answer to one message from the agent."""
    async with http.post("/api/sms", json={"from": AGENT, "text": text, "id": ident}) as resp:
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        return body


async def test_a_reused_id_is_marked_replayed(http: aiohttp.ClientSession) -> None:
    """First use of an id: ``"replayed": false``; the same id again (README's ``a1``): the same
    replies with ``"replayed": true``, even with another text; a new id: a new message."""
    first = await answer(http, "1", "a1")
    assert first["replayed"] is False and first["replies"][0]["text"].startswith("充值\n")
    again = await answer(http, "1", "a1")
    assert again == {"replies": first["replies"], "replayed": True}
    assert await answer(http, "3", "a1") == again  # the id names the message, not its text
    fresh = await answer(http, "1", "a2")
    assert fresh["replayed"] is False and fresh["replies"][0]["text"].startswith("请输入固定电话")


async def test_a_replayed_recharge_says_so_and_pays_once(http: aiohttp.ClientSession,
                                                         server: Running) -> None:
    """The password message repeated under its id: the receipt again, replayed, paid once."""
    for n, text in enumerate(DIALOG[:-1]):
        await sms(http, text, f"m{n}")
    paid = await answer(http, "123456", "pay")
    again = await answer(http, "123456", "pay")
    assert paid["replayed"] is False and again == {**paid, "replayed": True}
    assert paid["replies"][0]["text"].startswith("充值成功") and len(paid["replies"]) == 2
    assert (await server.ledger.agent(AGENT)).balance_fen == 45_100


async def test_without_an_id_every_request_is_a_new_message(http: aiohttp.ClientSession) -> None:
    """No id: two identical key presses are two messages (the second is 充值's '1')."""
    assert (await sms(http, "1"))[0]["text"].startswith("充值\n")
    assert (await sms(http, "1"))[0]["text"].startswith("请输入固定电话号码")


@pytest.mark.parametrize("sender", [pytest.param("+8618912345678", id="plus-86"),
                                    pytest.param("8618912345678", id="86")])
async def test_a_country_code_is_the_same_agent(http: aiohttp.ClientSession, sender: str) -> None:
    """'+86…' and '86…' senders reach the agent's own session; the reply goes to its number."""
    replies = await sms(http, "3", "x", sender=sender)
    account = "账户管理\n1余额查询\n2修改交易密码\n3暂未开放\n4最近充值\n0返回"
    assert replies == [{"to": AGENT, "text": account}]


async def test_an_unknown_number_is_answered_not_refused(http: aiohttp.ClientSession) -> None:
    """R-1 is a menu answer (200), not a malformed request."""
    replies = await sms(http, "1", "x", sender="18900009999")
    assert replies == [{"to": "18900009999", "text": "本号码未开通空中充值，请到营业厅办理。"}]


@pytest.mark.parametrize("body", [
    pytest.param(b"hello", id="not-json"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe{", id="not-utf8"),
    pytest.param(b'[{"from": "18912345678", "text": "1"}]', id="json-array"),
    pytest.param(b'"1"', id="json-string"),
    pytest.param(b'{"text": "1", "id": "a"}', id="missing-from"),
    pytest.param(b'{"from": "1891234567x", "text": "1"}', id="non-digit-from"),
    pytest.param(b'{"from": 18912345678, "text": "1"}', id="number-from"),
    pytest.param(b'{"from": "18912345678"}', id="missing-text"),
    pytest.param(json.dumps({"from": AGENT, "text": "1" * 1001}).encode(), id="text-too-long"),
    pytest.param(json.dumps({"from": AGENT, "text": "1", "id": "i" * 129}).encode(),
                 id="id-too-long"),
    pytest.param(b'{"from": "18912345678", "text": "1", "id": [1]}', id="id-not-scalar"),
    pytest.param(b'{"from": "18912345678", "text": "1", "id": 1.5}', id="id-float"),
])
async def test_malformed_requests_get_a_400_json_error(http: aiohttp.ClientSession,
                                                       server: Running, body: bytes) -> None:
    """Whatever the body, a bad request is 400 with a JSON error saying what is wrong, never 500."""
    async with http.post("/api/sms", data=body,
                         headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and resp.content_type == "application/json"
        error = (await resp.json())["error"]
    assert error["code"] == "E_COMMAND" and error["message"].startswith("无法识别的指令")
    assert await outbox(server) == []


async def test_the_error_speaks_english_when_asked(http: aiohttp.ClientSession) -> None:
    """``Accept-Language: en`` gets the error text in English."""
    async with http.post("/api/sms", data=b"[]", headers={
            "Accept-Language": "en", "Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["message"].startswith("Unrecognised command: body must")


async def test_limits_are_inclusive(http: aiohttp.ClientSession) -> None:
    """1000 characters of text and a 128-character id are still accepted."""
    replies = await sms(http, "x" * 1000, "i" * 128)
    assert replies[0]["text"].startswith("输入有误")


async def inbox_count(run: Running) -> int:
    """Messages the engine took (each processed message leaves its key in the inbox)."""
    found = await run.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT COUNT(*) FROM inbox").fetchone()[0])
    return int(found)


@pytest.mark.parametrize(("headers", "code"), [
    pytest.param({}, 401, id="no-token"),
    pytest.param({"Authorization": "Bearer not-the-token-0123"}, 401, id="wrong-token"),
    pytest.param({"Authorization": f"Bearer {TOKEN}x"}, 401, id="token-with-more"),
    pytest.param({"Authorization": f"Basic {TOKEN}"}, 401, id="not-bearer"),
    pytest.param({"Authorization": f"Bearer {TOKEN}"}, 200, id="current-token"),
    pytest.param({"Authorization": f"bearer  {OLD_TOKEN}"}, 200, id="rotated-out-token"),
])
async def test_the_caller_must_hold_a_token(server: Running, headers: dict[str, str],
                                            code: int) -> None:
    """Without one of [api] token: 401 (JSON, a Bearer challenge) and nothing processed."""
    async with aiohttp.ClientSession(base_url=server.http_url) as bare, \
            bare.post("/api/sms", json={"from": AGENT, "text": "YE*123456", "id": "t"},
                      headers=headers) as resp:
        assert resp.status == code and resp.content_type == "application/json"
        body = await resp.json()
    if code == 401:
        assert body["error"]["code"] == "E_UNAUTHORIZED"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert await inbox_count(server) == 0
    else:
        assert body["replies"][0]["text"].startswith("充值账户余额500.00元")
        assert await inbox_count(server) == 1


async def test_a_token_in_the_query_is_not_enough(server: Running) -> None:
    """/api/sms takes its token from the Authorization header only."""
    async with aiohttp.ClientSession(base_url=server.http_url) as bare, \
            bare.post(f"/api/sms?token={TOKEN}", json={"from": AGENT, "text": "1"}) as resp:
        assert resp.status == 401


@pytest.mark.parametrize(("content_type", "data"), [
    pytest.param("text/plain", b'{"from": "18912345678", "text": "1"}', id="text-plain"),
    pytest.param("application/x-www-form-urlencoded", b"from=18912345678&text=1", id="form"),
    pytest.param("application/octet-stream", b'{"from": "18912345678", "text": "1"}',
                 id="octet-stream"),
])
async def test_only_json_is_taken(http: aiohttp.ClientSession, server: Running,
                                  content_type: str, data: bytes) -> None:
    """415 for anything but application/json: a cross-site form cannot post a message."""
    async with http.post("/api/sms", data=data, headers={"Content-Type": content_type}) as resp:
        assert resp.status == 415
        assert (await resp.json())["error"]["message"] == "send Content-Type: application/json"
    assert await inbox_count(server) == 0


@pytest.mark.parametrize("body", [
    pytest.param(b'{"from": "18912345678", "text": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
                 id="deeply-nested"),
    pytest.param(b'{"from": "18912345678", "text": "1", "id": "\\ud800"}', id="surrogate-id"),
    pytest.param(b'{"from": "18912345678", "text": "\\udfff1"}', id="surrogate-text"),
    pytest.param('{"from": "1891234567²", "text": "1"}'.encode(), id="superscript-digit"),
    pytest.param('{"from": "١٨٩١٢٣٤٥٦٧٨", "text": "1"}'.encode(), id="arabic-indic-digits"),
    pytest.param(b'{"from": "18912345678", "text": "1", "id": true}', id="boolean-id"),
])
async def test_hostile_bodies_get_a_400_not_a_500(http: aiohttp.ClientSession, server: Running,
                                                  body: bytes) -> None:
    """Nesting, lone surrogates, Unicode digits: 400 saying what is wrong; nothing processed."""
    async with http.post("/api/sms", data=body,
                         headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "E_COMMAND"
    assert await inbox_count(server) == 0


async def test_unicode_digits_in_a_command_are_answered(http: aiohttp.ClientSession) -> None:
    """'²' inside a one-line command's number is a menu answer (200), never a 500."""
    replies = await sms(http, "CZ*2*1890000111²*100*123456", "u1")
    assert replies and replies[0]["to"] == AGENT


async def test_without_a_token_the_api_is_off(settings: Settings, clock: ManualClock,
                                              billing: BillingSimulator) -> None:
    """No [api] token configured: /api/sms is not served (404), whatever the caller sends."""
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with running(settings, clock=clock, billing=billing) as run, \
            aiohttp.ClientSession(base_url=run.http_url) as bare, \
            bare.post("/api/sms", json={"from": AGENT, "text": "1"},
                      headers={"Authorization": "Bearer "}) as resp:
        assert resp.status == 404
