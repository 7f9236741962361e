"""Online top-up (R-9) through the simulated bank: signed notices, credited exactly once."""

from __future__ import annotations

import re

import pytest
from web_support import AGENT, MGMT, SECOND, Browser, second_agent, sql

from ledger import Ledger
from smsmenu.core.bank_wire import sign
from smsmenu.web import bank_key

pytestmark = pytest.mark.both_engines


@pytest.fixture
async def logged_in(browser: Browser, agent: dict[str, object]) -> Browser:
    await browser.login_agent(AGENT, MGMT)
    await browser.get("/web/topup")
    return browser


def _bank_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


async def _order(browser: Browser, amount: str = "100") -> dict[str, str]:
    """Start a top-up; the bank's page (followed) and its signed request fields."""
    page = await browser.post("/web/topup", {"amount": amount})
    assert page.url == "/bank/pay" and page.status == 200
    return {k: v.replace("&amp;", "&") for k, v in _bank_fields(page.text).items()}


async def _balance(ledger: Ledger) -> int:
    return int((await ledger.agent(AGENT)).available_fen)


async def test_pay_credits_once(logged_in: Browser, ledger: Ledger) -> None:
    """The bank pays, notifies (signed), and the deposit is credited once however often the
    notice is repeated."""
    fields = await _order(logged_in)
    page = await logged_in.post("/bank/pay", {**fields, "decision": "pay"}, csrf=False)
    assert page.url == f"/web/topup/{fields['order']}" and "已到账" in page.text
    assert await _balance(ledger) == 60_000
    for _ in range(3):
        async with logged_in.client.post(f"/bank/notify-again/{fields['order']}") as again:
            assert (await again.json())["answer"] == "200 success"
    assert await _balance(ledger) == 60_000
    assert await sql(ledger, "SELECT channel, amount, invoice_quota FROM deposits "
                             "ORDER BY id") == [("counter", 50_000, 5_000), ("online", 10_000, 0)]


@pytest.mark.parametrize("tamper", [
    pytest.param({"sign": "0" * 64}, id="bad-signature"),
    pytest.param({"amount_fen": "999900"}, id="amount-changed"),
    pytest.param({"status": "paid", "extra": "x"}, id="unknown-field"),
])
async def test_forged_notice_changes_nothing(logged_in: Browser, ledger: Ledger,
                                             tamper: dict[str, str]) -> None:
    """A notice that does not verify is refused (403): no deposit, the order stays open."""
    fields = await _order(logged_in)
    notice = {"merchant": "smsmenu", "order": fields["order"], "amount_fen": "10000",
              "status": "paid", "txn": "B1"}
    notice["sign"] = sign(bank_key(ledger), notice)
    async with logged_in.client.post("/web/topup/notify", data={**notice, **tamper}) as answer:
        assert answer.status == 403
    assert await _balance(ledger) == 50_000
    assert await sql(ledger, "SELECT status FROM web_topups") == [("created",)]


async def test_signed_notice_for_wrong_amount(logged_in: Browser, ledger: Ledger) -> None:
    """Even a well-signed notice must match the order's amount."""
    fields = await _order(logged_in)
    notice = {"merchant": "smsmenu", "order": fields["order"], "amount_fen": "20000",
              "status": "paid", "txn": "B1"}
    notice["sign"] = sign(bank_key(ledger), notice)
    async with logged_in.client.post("/web/topup/notify", data=notice) as answer:
        assert answer.status == 400
    assert await _balance(ledger) == 50_000


@pytest.mark.parametrize(("amount", "ok"), [
    pytest.param("10", True, id="ten-no-minimum"), pytest.param("1230", True, id="x10"),
    pytest.param("5", False, id="below-ten"), pytest.param("15", False, id="not-x10"),
    pytest.param("0", False, id="zero")])
async def test_amount_rule(logged_in: Browser, amount: str, ok: bool) -> None:
    """R-9: a multiple of 10 yuan, no 500 yuan minimum."""
    page = await logged_in.post("/web/topup", {"amount": amount})
    assert (page.url == "/bank/pay") is ok
    if not ok:
        assert page.status == 400 and "10元的整数倍" in page.text and "R-9" not in page.text


async def test_cancel_and_ownership(logged_in: Browser, other: Browser, ledger: Ledger) -> None:
    """Cancelling pays nothing; another agent cannot see the order."""
    fields = await _order(logged_in)
    page = await logged_in.post("/bank/pay", {**fields, "decision": "cancel"}, csrf=False)
    assert page.url == f"/web/topup/{fields['order']}" and "付款已取消" in page.text
    assert await _balance(ledger) == 50_000
    await second_agent(ledger)
    await other.login_agent(SECOND, "222222")
    assert (await other.get(f"/web/topup/{fields['order']}")).status == 404


async def test_bank_checks_merchant_signature(logged_in: Browser, ledger: Ledger) -> None:
    """The bank's page refuses a request whose amount was changed after the merchant signed."""
    fields = await _order(logged_in)
    async with logged_in.client.get("/bank/pay", params=fields) as response:
        assert response.status == 200
    forged = {**fields, "amount_fen": "1"}
    async with logged_in.client.get("/bank/pay", params=forged) as response:
        assert response.status == 403
    page = await logged_in.post("/bank/pay", {**forged, "decision": "pay"}, csrf=False)
    assert page.status == 403 and await _balance(ledger) == 50_000
