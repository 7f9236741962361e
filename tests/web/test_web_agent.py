"""The agent's pages: dashboard, recharge with confirmation, receipts, retry, history, CSV, sheet."""

from __future__ import annotations

import re

import pytest
from web_support import AGENT, CUSTOMER, MGMT, SECOND, TX, Browser, outbox, second_agent, sql
from web_support import web_recharge as recharge

from ledger import Ledger
from ledger.api import RechargeRequest
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock


@pytest.fixture
async def logged_in(browser: Browser, agent: dict[str, object]) -> Browser:
    await browser.login_agent(AGENT, MGMT)
    return browser


async def test_dashboard(logged_in: Browser) -> None:
    """Balance, today's recharges and commission, and the 30-day chart as inline SVG."""
    await recharge(logged_in, amount="100")
    await recharge(logged_in, amount="50")
    page = await logged_in.get("/web/home")
    assert "¥353.00" in page.text  # 500 - 98 - 49
    assert "¥150.00" in page.text and "2 笔，佣金 3.00 元" in page.text
    svg = page.text.split('<svg class="chart"')[1].split("</svg>")[0]
    assert svg.count('<rect class="bar"') == 30 and "<polyline" in svg


async def test_confirmation_shows_charge(logged_in: Browser) -> None:
    """The confirmation step shows the number, the amount and the charge after commission."""
    page = await logged_in.post("/web/recharge/confirm", {
        "kind": "mobile", "target": "189 0000 1111", "again": CUSTOMER, "amount": "100"})
    assert page.status == 200
    assert CUSTOMER in page.text and "¥100.00" in page.text
    assert 'id="charge"><strong>¥98.00' in page.text and "¥2.00 (2%)" in page.text


@pytest.mark.parametrize(("fields", "expected"), [
    pytest.param({"again": "18900002222"}, "两次输入的号码不一致", id="numbers-differ"),
    pytest.param({"amount": "15"}, "金额须为10至1000元且为10元的整数倍", id="amount-not-x10"),
    pytest.param({"amount": "1010"}, "金额须为10至1000元且为10元的整数倍", id="amount-too-high"),
    pytest.param({"amount": "ten"}, "金额格式不正确", id="amount-not-a-number"),
    pytest.param({"target": "1890000", "again": "1890000"}, "不符合C网手机号码规则", id="short-number"),
    pytest.param({"notice": "18900003333"}, "只有固定电话和宽带可指定通知号码", id="notice-for-mobile"),
    pytest.param({"kind": "fax"}, "请选择充值类型", id="unknown-kind"),
])
async def test_form_refusals(logged_in: Browser, ledger: Ledger, fields: dict[str, str],
                             expected: str) -> None:
    """Mistakes stop at the form (R-13, R-14, R-17, typed twice), before any money moves."""
    data = {"kind": "mobile", "target": CUSTOMER, "again": CUSTOMER, "amount": "100", **fields}
    await logged_in.get("/web/recharge")
    page = await logged_in.post("/web/recharge/confirm", data)
    assert page.status == 400 and expected in page.text and not re.search(r"R-\d", page.text)
    assert 'id="recharge-form"' in page.text
    assert await sql(ledger, "SELECT COUNT(*) FROM recharges") == [(0,)]


async def test_recharge_receipt_and_notices(logged_in: Browser, ledger: Ledger) -> None:
    """A confirmed recharge shows its receipt; the same SMS as the menu's are queued (R-17)."""
    page = await recharge(logged_in, target="02787654321", kind="landline", amount="200",
                          notice="18900003333")
    assert page.url == "/web/recharges/1" and "成功" in page.text
    assert '<dd id="refno">0000000195</dd>' in page.text and "¥196.00" in page.text
    assert "RC0" not in page.text  # BOSS's reference is not what the agent quotes
    sent = await outbox(ledger)
    assert [(to, kind) for to, _, kind in sent[-2:]] == [(AGENT, "receipt"),
                                                         ("18900003333", "customer")]
    assert await sql(ledger, "SELECT channel FROM recharges") == [("web",)]


async def test_wrong_transaction_password(logged_in: Browser, ledger: Ledger) -> None:
    """A wrong password keeps the confirmation page and counts toward the lockout (R-2)."""
    page = await recharge(logged_in, password="000000")
    assert page.status == 422 and 'id="confirm-form"' in page.text and "还可尝试4次" in page.text
    assert await sql(ledger, "SELECT failed_attempts FROM agents") == [(1,)]
    assert await sql(ledger, "SELECT COUNT(*) FROM recharges") == [(0,)]


async def test_double_submit_pays_once(logged_in: Browser, ledger: Ledger) -> None:
    """Submitting the same confirmation twice recharges once (the form's key)."""
    await logged_in.get("/web/recharge")
    confirm = await logged_in.post("/web/recharge/confirm", {
        "kind": "mobile", "target": CUSTOMER, "again": CUSTOMER, "amount": "100"})
    key = re.search(r'name="key" value="(\w+)"', confirm.text)
    assert key is not None
    data = {"kind": "mobile", "target": CUSTOMER, "amount_fen": "10000", "notice": "",
            "key": key.group(1), "tx_password": TX}
    first = await logged_in.post("/web/recharge", data)
    second = await logged_in.post("/web/recharge", data)
    assert first.url == second.url == "/web/recharges/1"
    assert await sql(ledger, "SELECT COUNT(*) FROM recharges") == [(1,)]


async def test_failed_then_retry(logged_in: Browser, ledger: Ledger,
                                 billing: BillingSimulator) -> None:
    """R-18: a failed recharge is listed with a retry button that completes it; its reason is
    in the agent's words (BOSS's own English detail stays in the row for the back office)."""
    billing.fail_next()
    page = await recharge(logged_in)
    assert "失败" in page.text and "/web/recharges/1/retry" in page.text
    assert '<dd id="reason">计费系统拒绝</dd>' in page.text and "simulated" not in page.text
    assert (await sql(ledger, "SELECT failure FROM recharges"))[0][0].startswith("declined: ")
    home = await logged_in.get("/web/home")
    assert 'id="failed"' in home.text and "/web/recharges/1/retry" in home.text
    assert "计费系统拒绝" in home.text and "declined" not in home.text
    retry = await logged_in.get("/web/recharges/1/retry")
    assert "计费系统拒绝" in retry.text and "declined" not in retry.text
    done = await logged_in.post("/web/recharges/1/retry", {
        "key": re.findall(r'name="key" value="(\w+)"', logged_in.last)[0], "tx_password": TX})
    assert done.url == "/web/recharges/1" and "成功" in done.text
    assert "没有失败的充值" in (await logged_in.get("/web/home")).text


async def test_unconfirmed_recharge_is_shown_pending_not_failed(
        logged_in: Browser, ledger: Ledger, billing: BillingSimulator) -> None:
    """Issue 9: billing timed out and cannot say: the receipt says the amount is held and the
    result follows by SMS; no retry is offered (the first attempt may still complete)."""
    billing.timeout_next(1, applied=False)
    page = await recharge(logged_in)
    assert page.url == "/web/recharges/1" and 'id="pending"' in page.text
    assert "请勿重复充值" in page.text and "/web/recharges/1/retry" not in page.text
    assert await sql(ledger, "SELECT status FROM recharges") == [("pending",)]


async def test_history_paging_and_dates(logged_in: Browser, ledger: Ledger,
                                        clock: ManualClock) -> None:
    """R-21: history between two dates, 20 a page."""
    for _ in range(3):
        await ledger.recharge(RechargeRequest(
                key=f"old{_}", msisdn=AGENT, kind="mobile", target=CUSTOMER, amount_fen=1000,
                tx_password=TX))
    clock.advance(days=2)
    for i in range(22):
        await ledger.recharge(RechargeRequest(
                key=f"k{i}", msisdn=AGENT, kind="mobile", target=CUSTOMER, amount_fen=1000,
                tx_password=TX))
    await logged_in.login_agent(AGENT, MGMT)  # two days idle: the session has expired
    first = await logged_in.get("/web/history?from=2026-11-12&to=2026-11-12")
    assert first.text.count('class="ref"') == 20 and "第 1 / 2 页，共 22 笔" in first.text
    second = await logged_in.get("/web/history?from=2026-11-12&to=2026-11-12&page=2")
    assert second.text.count('class="ref"') == 2
    earlier = await logged_in.get("/web/history?from=2026-11-01&to=2026-11-10")
    assert earlier.text.count('class="ref"') == 3
    bad = await logged_in.get("/web/history?from=2026-11-12&to=2026-11-01")
    assert bad.status == 400


async def test_csv_and_sheet(logged_in: Browser) -> None:
    """The CSV has a header and one row per recharge; the sheet has a confirmation column."""
    await recharge(logged_in, amount="100")
    await recharge(logged_in, target="18900002222", amount="30")
    async with logged_in.client.get("/web/history.csv") as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        body = (await response.read()).decode("utf-8-sig")
    lines = body.strip().split("\r\n")
    assert lines[0].startswith("单号,时间,类型,号码,金额") and len(lines) == 3
    assert "18900002222,30.00,0.60,29.40,成功" in lines[1]
    assert lines[1].startswith("0000000292,") and lines[2].startswith("0000000195,")  # 单号
    sheet = await logged_in.get("/web/history/sheet")
    assert "客户确认（签字）" in sheet.text and "合计 2 笔" in sheet.text and "130.00" in sheet.text


async def test_history_shows_charges_only_where_money_moved(logged_in: Browser, ledger: Ledger,
                                                            billing: BillingSimulator) -> None:
    """A failed recharge charged nothing: its CSV commission and charge are blank and the page
    shows a dash, so summing the column gives what the agent was charged."""
    await recharge(logged_in, amount="100")
    billing.fail_next(1)
    await recharge(logged_in, target="18900002222", amount="30")
    async with logged_in.client.get("/web/history.csv") as response:
        body = (await response.read()).decode("utf-8-sig")
    failed, ok = body.strip().split("\r\n")[1:]
    assert "18900002222,30.00,,,失败" in failed
    assert "18900001111,100.00,2.00,98.00,成功" in ok
    page = await logged_in.get("/web/history")
    assert page.text.count("—</td>") == 1
    assert 'data-label="单号">0000000292</td>' in page.text


async def test_other_agents_records_refused(logged_in: Browser, other: Browser,
                                            ledger: Ledger) -> None:
    """An agent sees only its own recharges: another's ids are simply not found."""
    await recharge(logged_in)
    await second_agent(ledger)
    await other.login_agent(SECOND, "222222")
    for path in ("/web/recharges/1", "/web/recharges/1/retry", "/web/recharges/999"):
        assert (await other.get(path)).status == 404, path
    await other.get("/web/home")
    page = await other.post("/web/recharges/1/retry", {"key": "abc", "tx_password": "111111"})
    assert page.status == 404
    assert CUSTOMER not in (await other.get("/web/history")).text
