"""Back office recharges: look-up by customer (R-22), invoices, reversal (R-23..R-25), report."""

from __future__ import annotations

import re

import pytest
from web_support import AGENT, CUSTOMER, SECOND, TX, Browser, second_agent, sql

from ledger import Ledger
from ledger.api import RechargeRequest
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.refno import quote

pytestmark = pytest.mark.both_engines

POSTPAID = "18900005555"


@pytest.fixture
async def recharged(ledger: Ledger, billing: BillingSimulator,
                    agent: dict[str, object]) -> dict[str, object]:
    """Recharge 1: 100 yuan paying a postpaid bill (reversible); 2: a prepaid top-up."""
    billing.open_account("mobile", POSTPAID, "postpaid", bills={"2026-11": 10_000})
    first = await ledger.recharge(RechargeRequest(
            key="r1", msisdn=AGENT, kind="mobile", target=POSTPAID, amount_fen=10_000,
            tx_password=TX))
    await ledger.recharge(RechargeRequest(
            key="r2", msisdn=AGENT, kind="mobile", target=CUSTOMER, amount_fen=5_000,
            tx_password=TX))
    return first


def _verdicts(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-check="(\w+)" class="(\w+)">', html))


async def test_lookup_by_customer(browser: Browser, ledger: Ledger,
                                  recharged: dict[str, object], operators: dict[str, str]) -> None:
    """R-22: every agent's recharges to one number, with the agent's account."""
    await second_agent(ledger)
    await ledger.recharge(RechargeRequest(
            key="s1", msisdn=SECOND, kind="mobile", target=CUSTOMER, amount_fen=2_000,
            tx_password="111111"))
    await browser.login_operator("hotline")
    page = await browser.get(f"/web/ops/lookup?number={CUSTOMER}")
    rows = page.text.split('id="lookup-rows"')[1]
    assert "A00000001" in rows and "A00000002" in rows and POSTPAID not in rows
    assert "没有向 18900000000 的充值记录" in (
        await browser.get("/web/ops/lookup?number=18900000000")).text



async def test_lookup_by_the_agents_reference(browser: Browser, ledger: Ledger,
                                             recharged: dict[str, object],
                                             operators: dict[str, str]) -> None:
    """Issue 13: the hotline finds a recharge by the 单号 the agent quotes (check digits
    checked); the row shows it beside BOSS's own reference."""
    await browser.login_operator("hotline")
    page = await browser.get(f"/web/ops/lookup?number={quote(1)}")
    rows = page.text.split('id="lookup-rows"')[1]
    assert f">{quote(1)}</td>" in rows and "RC" in rows and "A00000001" in rows
    typo = quote(1)[:-1] + str((int(quote(1)[-1]) + 1) % 10)
    assert 'id="lookup-rows"' not in (await browser.get(f"/web/ops/lookup?number={typo}")).text


async def test_reversal_all_checks_pass(browser: Browser, ledger: Ledger,
                                        recharged: dict[str, object],
                                        operators: dict[str, str]) -> None:
    """Every check is shown passing; a supervisor confirms; the agent gets the charge back."""
    await browser.login_operator("supervisor")
    page = await browser.get("/web/ops/recharges/1/reversal")
    verdicts = _verdicts(page.text)
    assert len(verdicts) == 9 and set(verdicts.values()) == {"pass"}
    before = int((await ledger.agent(AGENT)).available_fen)
    done = await browser.confirmed("/web/ops/recharges/1/reversal", {
        "key": re.findall(r'name="key" value="(\w+)"', page.text)[0]})
    assert 'id="result"' in done.text and "返销成功" in done.text and "已返销" in done.text
    assert 'id="not-ready"' not in done.text and "不能返销" not in done.text  # issue 13
    assert '<dd id="account-type">后付费 缴2026-11账单</dd>' in page.text
    assert int((await ledger.agent(AGENT)).available_fen) == before + 9_800
    assert await sql(ledger, "SELECT operator, status FROM reversals") == [("supervisor",
                                                                           "succeeded")]
    assert await sql(ledger, "SELECT outcome FROM web_audit WHERE action = 'reversal'") == [
        ("ok",)]


async def test_hotline_sees_checks_but_cannot_confirm(browser: Browser, ledger: Ledger,
                                                      recharged: dict[str, object],
                                                      operators: dict[str, str]) -> None:
    """The hotline prepares: the checks, no confirm button, and a POST is refused."""
    await browser.login_operator("hotline")
    page = await browser.get("/web/ops/recharges/1/reversal")
    assert 'id="need-supervisor"' in page.text and 'id="reversal-form"' not in page.text
    assert (await browser.confirmed("/web/ops/recharges/1/reversal", {"key": "k"})).status == 403
    assert await sql(ledger, "SELECT COUNT(*) FROM reversals") == [(0,)]


@pytest.mark.parametrize(("setup", "failing"), [
    pytest.param("prepaid", "prepaid", id="R-24-prepaid"),
    pytest.param("late", "late", id="R-25-over-30-minutes"),
    pytest.param("invoice", "invoice", id="R-25-invoice-taken"),
    pytest.param("month_end", "month_end", id="R-25-last-day"),
    pytest.param("spent", "balance", id="R-25-balance-spent"),
    pytest.param("monthly", "monthly", id="R-23-once-a-month"),
])
async def test_reversal_check_fails(browser: Browser, ledger: Ledger, clock: ManualClock,
                                    billing: BillingSimulator, recharged: dict[str, object],
                                    operators: dict[str, str], setup: str,
                                    failing: str) -> None:
    """A failing check is marked fail, there is no confirm button, and a POST is refused."""
    recharge_id = 2 if setup == "prepaid" else 1
    await browser.login_operator("supervisor")
    if setup == "late":
        clock.advance(minutes=31)
        await browser.login_operator("supervisor")
    elif setup == "invoice":
        await browser.get(f"/web/ops/lookup?number={POSTPAID}")
        await browser.confirmed("/web/ops/recharges/1/invoice", {})
    elif setup == "month_end":
        clock.set("2026-11-30T10:00:00")
        billing.open_account("mobile", "18900007777", "postpaid")
        late = await ledger.recharge(RechargeRequest(
                key="r4", msisdn=AGENT, kind="mobile", target="18900007777", amount_fen=1_000,
                tx_password=TX))
        recharge_id = late.recharge_id
        await browser.login_operator("supervisor")
    elif setup == "spent":
        account = billing.account("mobile", POSTPAID)
        assert account is not None
        account.balance_fen = 0
    elif setup == "monthly":
        billing.open_account("mobile", "18900006666", "postpaid")
        other = await ledger.recharge(RechargeRequest(
                key="r3", msisdn=AGENT, kind="mobile", target="18900006666", amount_fen=1_000,
                tx_password=TX))
        await ledger.reverse(key="rv0", recharge_id=other.recharge_id, operator="x")
    page = await browser.get(f"/web/ops/recharges/{recharge_id}/reversal")
    verdicts = _verdicts(page.text)
    assert [name for name, v in verdicts.items() if v != "pass"] == failing.split()
    assert {verdicts[name] for name in failing.split()} == {"fail"}
    assert 'id="reversal-form"' not in page.text and 'id="not-ready"' in page.text
    if setup == "prepaid":  # a top-up pays no bill: refused as prepaid, in words
        assert '<dd id="account-type">预付费</dd>' in page.text
        assert "其他月份" not in page.text and "只有后付费账户可以返销" in page.text
    refused = await browser.confirmed(f"/web/ops/recharges/{recharge_id}/reversal", {"key": "k"})
    assert refused.status == 422
    assert await sql(ledger, "SELECT COUNT(*) FROM reversals WHERE status = 'succeeded'") == [
        (1 if setup == "monthly" else 0,)]


async def test_daily_report(browser: Browser, ledger: Ledger, recharged: dict[str, object],
                            operators: dict[str, str]) -> None:
    """Deposits, recharges, commission and reversals by agent, on the page and as CSV."""
    await ledger.reverse(key="rv1", recharge_id=1, operator="supervisor")
    await browser.login_operator("clerk")
    page = await browser.get("/web/ops/report?date=2026-11-10")
    row = page.text.split('id="report"')[1].split("<tbody>")[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells == ["A00000001", "小王", "500.00", "0.00", "50.00", "2", "150.00", "3.00", "1",
                     "100.00"]
    async with browser.client.get("/web/ops/report.csv?date=2026-11-10") as response:
        lines = (await response.read()).decode("utf-8-sig").strip().split("\r\n")
    assert lines[0].startswith("代办户,号码,名称,营业厅存款")
    assert lines[1] == "1,18912345678,小王,500.00,0.00,50.00,2,150.00,3.00,1,100.00,2.00"
    assert lines[2].startswith("合计,,,500.00")
    empty = await browser.get("/web/ops/report?date=2026-11-09")
    assert "A00000001" not in empty.text
