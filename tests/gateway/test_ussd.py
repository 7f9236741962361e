"""USSD callback (``POST /ussd``): accumulating ``text``, CON/END screens, outbox, restarts, logs."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
import structlog

from simulator.billing import BillingSimulator
from smsmenu.core import logs
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.gateway.ussd import MAX_SCREEN
from smsmenu.server.main import Running, running

pytestmark = pytest.mark.both_engines

AGENT, CUSTOMER = "18912345678", "18012345678"
INPUTS = ["1", "2", CUSTOMER, "50", "1", "123456"]
TOKEN = "ussd-token-0123456789abc"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


class Ussd:
    """One USSD session of a handset as the aggregator drives it: ``text`` accumulates inputs."""

    def __init__(self, http: aiohttp.ClientSession, session_id: str, phone: str = AGENT) -> None:
        self.http, self.session_id, self.phone = http, session_id, phone
        self.inputs: list[str] = []

    async def post(self, text: str) -> str:
        form = {"sessionId": self.session_id, "serviceCode": "*100#", "phoneNumber": self.phone,
                "text": text}
        async with self.http.post("/ussd", data=form) as resp:
            assert resp.status == 200 and resp.content_type == "text/plain"
            body = await resp.text()
        assert body.startswith(("CON ", "END ")) and len(body) - 4 <= MAX_SCREEN
        return body

    async def dial(self) -> str:
        return await self.post("")

    async def press(self, key: str) -> str:
        self.inputs.append(key)
        return await self.post("*".join(self.inputs))


@asynccontextmanager
async def serve(settings: Settings, clock: ManualClock,
                billing: BillingSimulator) -> AsyncIterator[tuple[Running, aiohttp.ClientSession]]:
    """The server on free ports with a ``[ussd] token``; a client that sends it."""
    settings = (settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
                .replace("ussd", token=(TOKEN,)))
    async with running(settings, clock=clock, billing=billing) as run, \
            aiohttp.ClientSession(base_url=run.http_url, headers=BEARER) as http:
        yield run, http


@pytest.fixture
async def server(settings: Settings, clock: ManualClock, billing: BillingSimulator
                 ) -> AsyncIterator[tuple[Running, aiohttp.ClientSession]]:
    """The whole server on free ports with the agent (500 yuan) and an HTTP client."""
    async with serve(settings, clock, billing) as (run, http):
        await run.ledger.open_agent(msisdn=AGENT, name="小王", tx_password="123456",
                                    mgmt_password="654321")
        await run.ledger.deposit(key="seed", msisdn=AGENT, amount_fen=50_000, channel="counter")
        yield run, http


async def outbox(run: Running) -> list[tuple[str, str, str, str | None]]:
    return await run.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT to_msisdn, kind, status, gateway FROM outbox WHERE kind IN ('menu', 'receipt', "
        "'customer') ORDER BY id").fetchall())


async def test_a_full_recharge_dialog(server: tuple[Running, aiohttp.ClientSession]) -> None:
    """Dial, then one input per callback: CON screens until the receipt, which is END."""
    run, http = server
    ussd = Ussd(http, "s-1")
    assert await ussd.dial() == "CON 空中充值\n1充值\n2异常处理\n3账户管理\n4业务管理"
    screens = [await ussd.press(key) for key in INPUTS]
    assert [s.split("\n")[0] for s in screens[:5]] == [
        "CON 充值", "CON 请输入C网手机号码", "CON 请输入金额(10-1000元,10的倍数)", "CON 请核对",
        "CON 请输入交易密码"]
    assert screens[3] == "CON 请核对\nC网手机18012345678\n充值50.00元 扣款49.00元\n1确认 0返回"
    assert re.fullmatch(r"END 充值成功 手机18012345678 50\.00元 佣金1\.00元 "
                        r"余额451\.00元 单号\d{10}\n0主菜单", screens[5])
    assert (await run.ledger.agent(AGENT)).balance_fen == 45_100


async def test_the_customer_notice_waits_for_sms_while_screens_are_sent(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """The agent's screens and receipt went out as USSD; the customer's notice stays queued."""
    run, http = server
    ussd = Ussd(http, "s-1")
    await ussd.dial()
    for key in INPUTS:
        await ussd.press(key)
    rows = await outbox(run)
    assert rows[-1] == (CUSTOMER, "customer", "queued", None)
    assert {(to, status, gw) for to, _, status, gw in rows[:-1]} == {(AGENT, "sent", "ussd")}
    assert rows[-2][1] == "receipt"


async def test_a_repeated_callback_gets_the_same_screen(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """The aggregator retries a callback (same text): the same screen again, nothing advances."""
    run, http = server
    ussd = Ussd(http, "s-1")
    assert await ussd.dial() == await ussd.dial()
    screen = await ussd.press("1")
    assert await ussd.post("1") == screen == "CON 充值\n1固定电话\n2C网手机\n3小灵通\n4宽带\n0返回"
    for key in INPUTS[1:]:
        receipt = await ussd.press(key)
    assert await ussd.post("*".join(ussd.inputs)) == receipt and receipt.startswith("END 充值成功")
    assert (await run.ledger.agent(AGENT)).balance_fen == 45_100


async def test_a_wrong_password_continues_and_the_right_one_ends(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """A wrong password is a CON screen saying so; the next input is the password again."""
    _, http = server
    ussd = Ussd(http, "s-1")
    await ussd.dial()
    for key in INPUTS[:-1]:
        await ussd.press(key)
    assert await ussd.press("000000") == "CON 密码错误，还可尝试4次\n请输入交易密码\n0返回"
    assert (await ussd.press("123456")).startswith("END 充值成功")


async def test_balance_and_unknown_number_end_the_session(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """A balance answer and the R-1 refusal are final screens."""
    _, http = server
    ussd = Ussd(http, "s-1")
    await ussd.dial()
    await ussd.press("3")
    await ussd.press("1")
    assert await ussd.press("123456") == "END 充值账户余额500.00元，可用500.00元。\n0主菜单"
    stranger = Ussd(http, "s-2", phone="18900009999")
    assert await stranger.dial() == "END 本号码未开通空中充值，请到营业厅办理。"


async def test_a_restarted_server_continues_the_session_from_the_last_input(
        settings: Settings, clock: ManualClock, billing: BillingSimulator) -> None:
    """After a restart the USSD session is unknown: the last input of ``text`` is the new one,
    and the menu state (in the database) carries the dialog on; it pays once."""
    async with serve(settings, clock, billing) as (run, http):
        await run.ledger.open_agent(msisdn=AGENT, name="小王", tx_password="123456",
                                    mgmt_password="654321")
        await run.ledger.deposit(key="seed", msisdn=AGENT, amount_fen=50_000, channel="counter")
        ussd = Ussd(http, "s-1")
        await ussd.dial()
        for key in INPUTS[:3]:
            await ussd.press(key)
    async with serve(settings, clock, billing) as (run, http):
        ussd.http = http
        confirm = await ussd.press("50")
        assert confirm == "CON 请核对\nC网手机18012345678\n充值50.00元 扣款49.00元\n1确认 0返回"
        await ussd.press("1")
        assert (await ussd.press("123456")).startswith("END 充值成功")
        assert (await run.ledger.agent(AGENT)).balance_fen == 45_100


@pytest.mark.parametrize("form", [
    pytest.param({"phoneNumber": AGENT, "text": ""}, id="no-session"),
    pytest.param({"sessionId": "s", "text": ""}, id="no-phone"),
    pytest.param({"sessionId": "s", "phoneNumber": "1891234567x", "text": ""}, id="bad-phone"),
])
async def test_a_malformed_callback_is_a_400_json_error(
        server: tuple[Running, aiohttp.ClientSession], form: dict[str, str]) -> None:
    """Missing session or phone: 400 with a JSON error, never a 500."""
    _, http = server
    async with http.post("/ussd", data=form) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "E_COMMAND"


@pytest.fixture
def json_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """``logs.configure(json=True)``: the server's processors (redaction) writing to a buffer."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    caplog.set_level(logging.DEBUG)
    logs.configure(level="debug", json=True)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    yield buffer
    structlog.configure(**saved)
    root.handlers[:], root.level = handlers, level


async def test_no_log_line_holds_the_password(
        settings: Settings, clock: ManualClock, billing: BillingSimulator,
        json_logs: io.StringIO, caplog: pytest.LogCaptureFixture) -> None:
    """A USSD recharge and a failed try, logged at debug level: the password is in no line."""
    password = "480264"
    async with serve(settings, clock, billing) as (run, http):
        await run.ledger.open_agent(msisdn=AGENT, name="小王", tx_password=password,
                                    mgmt_password="654321")
        await run.ledger.deposit(key="seed", msisdn=AGENT, amount_fen=50_000, channel="counter")
        ussd = Ussd(http, "s-1")
        await ussd.dial()
        for key in [*INPUTS[:-1], "135799", password]:
            await ussd.press(key)
        billing.fail_next(1)
        retry = Ussd(http, "s-2")
        await retry.dial()
        for key in [*INPUTS[:-1], password]:
            await retry.press(key)
    out = json_logs.getvalue() + caplog.text
    assert "menu.step" in out and "server.stopped" in out
    assert not re.search(r"(?<![0-9])(480264|135799)(?![0-9])", out)


async def inbox_count(run: Running) -> int:
    """Key presses the engine took (each leaves its key in the inbox)."""
    found = await run.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT COUNT(*) FROM inbox").fetchone()[0])
    return int(found)


@pytest.mark.parametrize(("path", "headers", "code"), [
    pytest.param("/ussd", {"Authorization": "Bearer"}, 401, id="no-token"),
    pytest.param("/ussd?token=wrong-token-0123456789", {"Authorization": "Bearer"}, 401,
                 id="wrong-query-token"),
    pytest.param("/ussd", {"Authorization": "Bearer wrong-token-0123456789"}, 401,
                 id="wrong-bearer"),
    pytest.param(f"/ussd?token={TOKEN}", {"Authorization": "Bearer"}, 200, id="query-token"),
    pytest.param("/ussd", BEARER, 200, id="bearer"),
])
async def test_the_aggregator_must_hold_a_token(
        server: tuple[Running, aiohttp.ClientSession], path: str, headers: dict[str, str],
        code: int) -> None:
    """[ussd] token as a Bearer header or a ``token`` query parameter; else 401, nothing run."""
    run, http = server
    form = {"sessionId": "a1", "serviceCode": "*100#", "phoneNumber": AGENT, "text": ""}
    async with http.post(path, data=form, headers=headers) as resp:
        assert resp.status == code
        text = await resp.text()
    assert text.startswith("CON 空中充值") if code == 200 else "invalid token" in text
    assert await inbox_count(run) == (1 if code == 200 else 0)


async def test_one_callback_carries_a_bounded_number_of_new_inputs(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """5,000 new '*'-inputs in one callback: 400 naming the limit (20), not 5,000 steps; the
    session goes on with a normal next callback."""
    run, http = server
    ussd = Ussd(http, "flood")
    await ussd.dial()
    before = await inbox_count(run)
    flood = {"sessionId": "flood", "serviceCode": "*100#", "phoneNumber": AGENT,
             "text": "*".join(["1"] * 5000)}
    async with http.post("/ussd", data=flood) as resp:
        assert resp.status == 400
        message = (await resp.json())["error"]["message"]
    assert "at most 20 new inputs per callback (this one has 5000)" in message
    assert await inbox_count(run) == before
    assert (await ussd.press("3")).startswith("CON 账户管理")
    twenty = Ussd(http, "twenty")
    await twenty.dial()
    twenty.inputs = ["0"] * 19
    assert (await twenty.press("3")).startswith("CON 账户管理")  # 20 new inputs: the limit


@pytest.mark.parametrize(("content_type", "body", "code"), [
    pytest.param("application/x-www-form-urlencoded; charset=zlib_codec",
                 b"sessionId=s&phoneNumber=18912345678&text=", 400, id="zlib-charset"),
    pytest.param("application/x-www-form-urlencoded; charset=rot13",
                 b"sessionId=s&phoneNumber=18912345678&text=", 400, id="rot13-charset"),
    pytest.param("application/json", b'{"sessionId": "s"}', 400, id="json-without-phone"),
    pytest.param("text/plain", b"sessionId=s&phoneNumber=18912345678&text=", 415,
                 id="text-plain"),
    pytest.param("multipart/form-data; boundary=x",
                 b'--x\r\nContent-Disposition: form-data; name="sessionId"\r\n\r\ns\r\n--x--\r\n',
                 415, id="multipart"),
    pytest.param("application/x-www-form-urlencoded",
                 b"sessionId=s&phoneNumber=1891234567%C2%B2&text=", 400, id="superscript-digit"),
    pytest.param("application/x-www-form-urlencoded",
                 b"sessionId=" + b"s" * 129 + b"&phoneNumber=18912345678&text=", 400,
                 id="long-session-id"),
])
async def test_hostile_callbacks_get_a_4xx_with_a_reason(
        server: tuple[Running, aiohttp.ClientSession], content_type: str, body: bytes,
        code: int) -> None:
    """Non-text charsets, other body types, Unicode digits: 4xx with a reason, never a 500."""
    run, http = server
    async with http.post("/ussd", data=body, headers={"Content-Type": content_type}) as resp:
        assert resp.status == code
        assert (await resp.text()).strip()
    assert await inbox_count(run) == 0


async def test_without_a_token_ussd_is_off(settings: Settings, clock: ManualClock,
                                           billing: BillingSimulator) -> None:
    """No [ussd] token configured: /ussd is not served (404)."""
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    form = {"sessionId": "s", "phoneNumber": AGENT, "text": ""}
    async with running(settings, clock=clock, billing=billing) as run, \
            aiohttp.ClientSession(base_url=run.http_url) as http, \
            http.post("/ussd", data=form) as resp:
        assert resp.status == 404
