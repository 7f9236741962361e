"""Every destructive or money action of the back office asks first, on the server: a POST
without the confirmation (or with one of other fields) changes nothing and answers a page that
names the agent, the amount in yuan and the effect; the confirmed POST acts."""

from __future__ import annotations

import re

import pytest
from web_support import AGENT, TX, Browser, sql

from ledger import Ledger
from ledger.api import RechargeRequest
from simulator.billing import BillingSimulator

POSTPAID = "18900007777"
STATE = ["SELECT id, balance, reserved FROM accounts ORDER BY id",
         "SELECT status, phone_suspended, rate_ppm, locked_until FROM agents",
         "SELECT status, invoice_taken FROM recharges", "SELECT COUNT(*) FROM reversals",
         "SELECT role, active FROM web_operators ORDER BY id",
         "SELECT COUNT(*) FROM web_audit WHERE action != 'login'"]

ACTIONS = [
    ("/web/ops/agents/1/deposit", {"amount": "800", "key": "k1"},
     "向代办户 A00000001（小王）营业厅存款 800.00 元：存入后余额 1202.00 元，须开具定额发票 80.00 元"),
    ("/web/ops/agents/1/suspend", {"suspended": "1"}, "代办户 A00000001（小王）停机"),
    ("/web/ops/agents/1/unlock", {}, "解除代办户 A00000001（小王）的交易密码锁定"),
    ("/web/ops/agents/1/rate", {"rate": "0.05"}, "佣金比例由 2% 改为 5%"),
    ("/web/ops/agents/1/close", {"key": "c1"}, "现有余额 402.00 元以现金退还"),
    ("/web/ops/recharges/1/invoice", {}, "充值 RC0000000002（100.00 元）已开发票"),
    ("/web/ops/recharges/1/reversal", {"key": "r1"},
     "从客户账户扣回 100.00 元，退回代办户 98.00 元"),
    ("/web/ops/operators/1/role", {"role": "hotline"}, "操作员 clerk 的角色由 营业员 改为 客服"),
    ("/web/ops/operators/1/active", {"active": "0"}, "停用操作员 clerk"),
]


@pytest.fixture
async def ready(ledger: Ledger, billing: BillingSimulator, agent: dict[str, object],
                operators: dict[str, str], browser: Browser) -> Browser:
    """The agent with 402 yuan left after a reversible 100 yuan recharge; a supervisor."""
    billing.open_account("mobile", POSTPAID, "postpaid", bills={"2026-11": 10_000})
    await ledger.recharge(RechargeRequest(key="r1", msisdn=AGENT, kind="mobile", target=POSTPAID,
                                          amount_fen=10_000, tx_password=TX))
    await browser.login_operator("supervisor")
    return browser


async def _state(ledger: Ledger) -> list[object]:
    return [await sql(ledger, query) for query in STATE]


@pytest.mark.parametrize(("path", "data", "words"), [
    pytest.param(*case, id=case[0].split("/", 3)[3].replace("/", "-")) for case in ACTIONS])
async def test_a_post_without_confirmation_changes_nothing(ready: Browser, ledger: Ledger,
                                                           path: str, data: dict[str, str],
                                                           words: str) -> None:
    """The first POST only asks, naming what will happen; a token for other fields (a changed
    amount, another action) asks again; the page's own token acts."""
    before = await _state(ledger)
    await ready.get("/web/ops/")
    asked = await ready.post(path, data)
    assert asked.status == 200 and 'id="ops-confirm-form"' in asked.text
    what = re.search(r'id="ops-confirm-what">([^<]*)<', asked.text)
    assert what is not None and words in what.group(1)
    token = re.findall(r'name="confirm" value="(\w+)"', asked.text)[0]
    assert await _state(ledger) == before
    forged = await ready.post(path, {**data, "extra": "1", "confirm": token})
    assert 'id="ops-confirm-form"' in forged.text and await _state(ledger) == before
    assert 'id="ops-confirm-form"' in (await ready.post(path, {**data, "confirm": "ab" * 32})).text
    assert await _state(ledger) == before
    done = await ready.post(path, {**data, "confirm": token})
    assert 'id="ops-confirm-form"' not in done.text
    assert await _state(ledger) != before
