"""The portal in a real browser (Debian's chromium via playwright): agent and operator journeys,
a wrong-owner refusal, no CSP violation; screenshots of the main pages in var/screenshots/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestServer
from web_support import AGENT, CUSTOMER, MGMT, OPERATOR_PASSWORD, SECOND, TX, second_agent

from ledger import Ledger
from ledger.api import RechargeRequest
from simulator.billing import BillingSimulator
from smsmenu.web import create_operator

if TYPE_CHECKING:
    from playwright.async_api import Browser as Chromium
    from playwright.async_api import Page

playwright = pytest.importorskip("playwright.async_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                                   reason=f"no browser at {CHROMIUM}")]


class Tab:
    """One browser page on the test server, recording CSP violations, taking screenshots."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.violations: list[str] = []
        page.on("console", lambda m: self.violations.append(m.text)
                if "Content Security Policy" in m.text else None)

    async def go(self, path: str) -> None:
        await self.page.goto(self.base + path)

    async def shot(self, name: str) -> None:
        await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    async def text(self, selector: str) -> str:
        return await self.page.locator(selector).inner_text()


@pytest.fixture
async def chromium() -> AsyncIterator[Chromium]:
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        await browser.close()


async def _tab(chromium: Chromium, server: TestServer, **options: Any) -> Tab:
    context = await chromium.new_context(locale="zh-CN", accept_downloads=True, **options)
    return Tab(await context.new_page(), str(server.make_url("")).rstrip("/"))


async def _agent_login(tab: Tab, who: str = "A00000001", password: str = MGMT) -> None:
    await tab.go("/web/login")
    await tab.page.fill("#password-login input[name=who]", who)
    await tab.page.fill("#password-login input[name=password]", password)
    await tab.page.click("#password-login button")
    await tab.page.wait_for_url("**/web/home")


async def test_agent_journey(chromium: Chromium, server: TestServer,
                             agent: dict[str, object]) -> None:
    """Log in, recharge with confirmation, see the receipt and history, export CSV, print the
    sheet, top up through the bank; nothing trips the Content-Security-Policy."""
    tab = await _tab(chromium, server, viewport={"width": 1100, "height": 800})
    await tab.go("/web/login")
    await tab.shot("01-login")
    await _agent_login(tab)
    await tab.page.click("nav >> text=充值")
    await tab.page.check("input[name=kind][value=mobile]")
    for name, value in (("target", CUSTOMER), ("again", CUSTOMER), ("amount", "100")):
        await tab.page.fill(f"#recharge-form input[name={name}]", value)
    await tab.shot("03-recharge-form")
    await tab.page.click("#recharge-form button")
    assert "98.00" in await tab.text("#charge")
    await tab.shot("04-confirm")
    await tab.page.fill("input[name=tx_password]", TX)
    await tab.page.click("#confirm-form button")
    await tab.page.wait_for_url("**/web/recharges/1")
    assert await tab.text("#status") == "成功"
    await tab.shot("05-receipt")
    await tab.go("/web/history")
    assert CUSTOMER in await tab.text("#records")
    await tab.shot("06-history")
    async with tab.page.expect_download() as download:
        await tab.page.click("#csv")
    saved = await (await download.value).path()
    csv = (await asyncio.to_thread(Path(saved).read_bytes)).decode("utf-8-sig")
    assert CUSTOMER in csv and csv.startswith("单号")
    await tab.go("/web/history/sheet")
    await tab.shot("07-record-sheet")
    await tab.go("/web/topup")
    await tab.page.fill("#topup-form input[name=amount]", "200")
    await tab.page.click("#topup-form button")
    await tab.page.wait_for_url("**/bank/pay?**")
    await tab.shot("08-bank")
    await tab.page.click("button[value=pay]")
    await tab.page.wait_for_url("**/web/topup/T*")
    assert await tab.text("#status") == "已到账"
    await tab.go("/web/home")
    assert await tab.text("#balance") == "¥602.00"
    await tab.shot("02-home")
    assert tab.violations == []


async def test_agent_on_a_phone(chromium: Chromium, server: TestServer,
                                ledger: Ledger, agent: dict[str, object]) -> None:
    """On a phone-sized screen the pages fit the width (no sideways scrolling)."""
    for i in range(3):
        await ledger.recharge(RechargeRequest(
                key=f"m{i}", msisdn=AGENT, kind="mobile", target=CUSTOMER,
                amount_fen=(i + 1) * 5_000, tx_password=TX))
    tab = await _tab(chromium, server, viewport={"width": 390, "height": 844},
                     device_scale_factor=2, is_mobile=True)
    await _agent_login(tab)
    for path, name in (("/web/home", "09-home-phone"), ("/web/recharge", "10-recharge-phone"),
                       ("/web/history", "11-history-phone")):
        await tab.go(path)
        width = await tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, path
        await tab.shot(name)
    await tab.go("/web/home")  # issue 13: the chart fits its box; today's bar is in view
    box, chart, today = [await tab.page.evaluate(
        f"(() => {{ const r = document.querySelector({sel!r}).getBoundingClientRect();"
        " return [r.left, r.right]; })()")
        for sel in (".chart-box", "svg.chart", "svg.chart rect.bar:last-of-type")]
    assert box[0] <= chart[0] and chart[1] <= box[1] + 0.5
    assert box[0] <= today[0] < today[1] <= box[1] + 0.5
    assert await tab.page.evaluate(
        "document.querySelector('.chart-box').scrollWidth"
        " <= document.querySelector('.chart-box').clientWidth")


async def test_settlement_report_on_a_phone(chromium: Chromium, server: TestServer,
                                            ledger: Ledger, agent: dict[str, object]) -> None:
    """Issue 13: at 390 px the settlement report fits the width and every number keeps its
    label (the column headings are hidden there)."""
    await ledger.recharge(RechargeRequest(key="p1", msisdn=AGENT, kind="mobile",
                                          target=CUSTOMER, amount_fen=10_000, tx_password=TX))
    await create_operator(ledger, "wang", OPERATOR_PASSWORD, "supervisor")
    tab = await _tab(chromium, server, viewport={"width": 390, "height": 844},
                     device_scale_factor=2, is_mobile=True)
    await tab.go("/web/ops/login")
    await tab.page.fill("input[name=name]", "wang")
    await tab.page.fill("input[name=password]", OPERATOR_PASSWORD)
    await tab.page.click("#ops-login button")
    await tab.page.wait_for_url("**/web/ops/")
    await tab.go("/web/ops/report")
    assert await tab.page.evaluate("document.documentElement.scrollWidth") <= 390
    labels = await tab.page.evaluate(
        "[...document.querySelectorAll('#report tbody td, #report tfoot td')].map(td =>"
        " td.colSpan > 1 ? td.innerText : getComputedStyle(td, '::before').content)")
    assert len(labels) == 10 + 9 and all(label not in ("none", "", '""') for label in labels)
    assert '"充值金额 "' in labels and "合计" in labels
    await tab.shot("17-ops-report-phone")


async def test_operator_journey(chromium: Chromium, server: TestServer,
                                ledger: Ledger, billing: BillingSimulator) -> None:
    """A supervisor opens an agent, deposits (invoice quota shown), and reverses a recharge
    after seeing every check pass."""
    await create_operator(ledger, "wang", OPERATOR_PASSWORD, "supervisor")
    tab = await _tab(chromium, server, viewport={"width": 1200, "height": 800})
    await tab.go("/web/ops/login")
    await tab.page.fill("input[name=name]", "wang")
    await tab.page.fill("input[name=password]", OPERATOR_PASSWORD)
    await tab.page.click("#ops-login button")
    await tab.page.wait_for_url("**/web/ops/")
    await tab.page.click("nav >> text=开户")
    fields = {"msisdn": AGENT, "name": "小王", "tx_password": TX, "tx_again": TX,
              "mgmt_password": MGMT, "mgmt_again": MGMT}
    for name, value in fields.items():
        await tab.page.fill(f"#open-form input[name={name}]", value)
    await tab.shot("12-ops-open")
    await tab.page.click("#open-form button")
    await tab.page.wait_for_url("**/web/ops/agents/1")
    await tab.page.fill("#deposit-form input[name=amount]", "1000")
    await tab.page.click("#deposit-form button")
    assert "营业厅存款 1000.00 元" in await tab.text("#ops-confirm-what")
    await tab.shot("13-ops-confirm-deposit")
    await tab.page.click("#ops-confirm-form button")
    assert "定额发票 100.00 元" in await tab.text("#result")
    await tab.shot("13-ops-agent-deposit")
    billing.open_account("mobile", "18900005555", "postpaid")
    await ledger.recharge(RechargeRequest(
            key="r1", msisdn=AGENT, kind="mobile", target="18900005555", amount_fen=10_000,
            tx_password=TX))
    await tab.page.click("nav >> text=按客户号码查询")
    await tab.page.fill("#lookup input[name=number]", "18900005555")
    await tab.page.click("#lookup button")
    await tab.page.click("#lookup-rows >> text=返销")
    assert await tab.page.locator("#checks tr.pass").count() == 9
    await tab.shot("14-ops-reversal-checks")
    await tab.page.click("#reversal-form button")
    assert "扣回 100.00 元" in await tab.text("#ops-confirm-what")
    await tab.page.click("#ops-confirm-form button")
    assert "返销成功" in await tab.text("#result")
    await tab.shot("15-ops-reversal-done")
    await tab.page.click("nav >> text=日结报表")
    assert "1000.00" in await tab.text("#report")
    await tab.shot("16-ops-report")
    assert tab.violations == []


async def test_wrong_owner_refused(chromium: Chromium, server: TestServer,
                                   ledger: Ledger, agent: dict[str, object]) -> None:
    """Another agent opening this agent's receipt gets a "not found" page."""
    await ledger.recharge(RechargeRequest(
            key="r1", msisdn=AGENT, kind="mobile", target=CUSTOMER, amount_fen=10_000,
            tx_password=TX))
    await second_agent(ledger)
    tab = await _tab(chromium, server, viewport={"width": 1000, "height": 700})
    await _agent_login(tab, SECOND, "222222")
    response = await tab.page.goto(tab.base + "/web/recharges/1")
    assert response is not None and response.status == 404
    assert "找不到" in await tab.text("main") and CUSTOMER not in await tab.page.content()
    await tab.shot("17-wrong-owner")
