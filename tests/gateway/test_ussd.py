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
from smsmenu import logs
from smsmenu.clock import ManualClock
from smsmenu.gateway.ussd import MAX_SCREEN
from smsmenu.server import Running, running
from smsmenu.settings import Settings

AGENT, CUSTOMER = "18912345678", "18012345678"
INPUTS = ["1", "2", CUSTOMER, "50", "1", "123456"]


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
    settings = settings.replace("http", port=0).replace("billing", url="http://127.0.0.1:0")
    async with running(settings, clock=clock, billing=billing) as run, \
            aiohttp.ClientSession(base_url=run.http_url) as http:
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
                        r"余额451\.00元 流水RC\d{10}", screens[5])
    assert (await run.ledger.agent(AGENT))["balance_fen"] == 45_100


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
    assert (await run.ledger.agent(AGENT))["balance_fen"] == 45_100


async def test_a_wrong_password_continues_and_the_right_one_ends(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """A wrong password is a CON screen saying so; the next input is the password again."""
    _, http = server
    ussd = Ussd(http, "s-1")
    await ussd.dial()
    for key in INPUTS[:-1]:
        await ussd.press(key)
    assert await ussd.press("000000") == "CON 密码错误，还可尝试4次 (R-2)\n请输入交易密码\n0返回"
    assert (await ussd.press("123456")).startswith("END 充值成功")


async def test_balance_and_unknown_number_end_the_session(
        server: tuple[Running, aiohttp.ClientSession]) -> None:
    """A balance answer and the R-1 refusal are final screens."""
    _, http = server
    ussd = Ussd(http, "s-1")
    await ussd.dial()
    await ussd.press("3")
    await ussd.press("1")
    assert await ussd.press("123456") == "END 充值账户余额500.00元，可用500.00元。"
    stranger = Ussd(http, "s-2", phone="18900009999")
    assert await stranger.dial() == "END 本号码未开通空中充值，请到营业厅办理(R-1)。"


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
        assert (await run.ledger.agent(AGENT))["balance_fen"] == 45_100


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
