"""The back office: operator accounts and roles, agent actions, and the audit log."""

from __future__ import annotations

import json
import re

import pytest
from web_support import AGENT, MGMT, TX, Browser, sql
from web_support import web_recharge as recharge

from ledger import Ledger
from ledger.api import RechargeRequest
from smsmenu.core.errors import InvalidCommand
from smsmenu.web import bootstrap, create_operator
from smsmenu.web.errors import DuplicateOperator, WeakPassword

pytestmark = pytest.mark.both_engines


@pytest.mark.parametrize(("name", "password", "role", "error"), [
    pytest.param("amy", "short", "clerk", WeakPassword, id="short-password"),
    pytest.param("amy", "long-enough-1", "boss", InvalidCommand, id="unknown-role"),
    pytest.param("a b", "long-enough-1", "clerk", InvalidCommand, id="space-in-name"),
    pytest.param("clerk", "long-enough-1", "clerk", DuplicateOperator, id="duplicate"),
])
async def test_create_operator_refused(ledger: Ledger, operators: dict[str, str], name: str,
                                       password: str, role: str, error: type[Exception]) -> None:
    """create_operator (the bootstrap for `smsmenu operator add`) checks its input."""
    with pytest.raises(error):
        await create_operator(ledger, name, password, role)


async def test_operator_password_stored_slowly_hashed(ledger: Ledger,
                                                      operators: dict[str, str]) -> None:
    """Operator passwords are scrypt hashes with a salt each, never the text."""
    rows = await sql(ledger, "SELECT salt, pw_hash FROM web_operators")
    assert len({salt for salt, _ in rows}) == 3
    assert all(len(h) == 32 and b"counter-pass-1" not in h for _, h in rows)


async def test_operator_login(browser: Browser, operators: dict[str, str]) -> None:
    """A right password opens the back office; a wrong one says nothing more."""
    assert (await browser.login_operator("clerk", "wrong-password")).status == 401
    assert (await browser.login_operator("nobody")).status == 401
    page = await browser.login_operator("clerk")
    assert page.url == "/web/ops/" and "营业员" in page.text


async def test_operator_login_rate_limited(browser: Browser, operators: dict[str, str]) -> None:
    """Ten wrong passwords for one operator: even the right one waits (429)."""
    for _ in range(10):
        await browser.login_operator("clerk", "wrong-password")
    assert (await browser.login_operator("clerk")).status == 429


FORBIDDEN = [
    ("hotline", "post", "/web/ops/agents/1/deposit", {"amount": "500", "key": "k"}),
    ("hotline", "post", "/web/ops/agents/1/suspend", {"suspended": "1"}),
    ("hotline", "post", "/web/ops/agents/1/close", {"key": "k"}),
    ("hotline", "post", "/web/ops/agents/new", {"msisdn": "18911112222"}),
    ("hotline", "get", "/web/ops/report", {}),
    ("clerk", "post", "/web/ops/agents/1/rate", {"rate": "0.05"}),
    ("clerk", "get", "/web/ops/recharges/1/reversal", {}),
    ("clerk", "post", "/web/ops/recharges/1/reversal", {"key": "k"}),
    ("clerk", "get", "/web/ops/audit", {}),
    ("hotline", "post", "/web/ops/recharges/1/reversal", {"key": "k"}),
    ("hotline", "post", "/web/ops/recharges/1/invoice", {}),
]


@pytest.mark.parametrize(("role", "method", "path", "data"), [
    pytest.param(*case, id=f"{case[0]}-{case[1]}-{case[2].split('/', 3)[3]}")
    for case in FORBIDDEN])
async def test_role_forbidden(browser: Browser, ledger: Ledger, agent: dict[str, object],
                              operators: dict[str, str], role: str, method: str, path: str,
                              data: dict[str, str]) -> None:
    """Each role may do only its part (403 otherwise), and a refused action changes nothing."""
    await ledger.recharge(RechargeRequest(
            key="r1", msisdn=AGENT, kind="mobile", target="18900001111", amount_fen=10_000,
            tx_password=TX))
    before = await sql(ledger, "SELECT balance, reserved FROM accounts ORDER BY id")
    await browser.login_operator(role)
    page = await (browser.get(path) if method == "get" else browser.post(path, data))
    assert page.status == 403 and "无权" in page.text
    assert await sql(ledger, "SELECT balance, reserved FROM accounts ORDER BY id") == before
    assert await sql(ledger, "SELECT COUNT(*) FROM web_audit WHERE action != 'login' "
                               "AND role != 'system'") == [(0,)]


async def test_open_agent(browser: Browser, ledger: Ledger, operators: dict[str, str]) -> None:
    """A clerk opens an agent (R-1, R-2); the audit log has it, without the passwords."""
    await browser.login_operator("clerk")
    await browser.get("/web/ops/agents/new")
    page = await browser.post("/web/ops/agents/new", {
        "msisdn": AGENT, "name": "小王", "tx_password": TX, "tx_again": TX,
        "mgmt_password": MGMT, "mgmt_again": MGMT, "rate": "0.015"})
    assert page.url == "/web/ops/agents/1" and "A00000001" in page.text and "1.5%" in page.text
    (detail,) = await sql(ledger, "SELECT detail FROM web_audit WHERE action = 'open'")
    assert json.loads(detail[0]) == {"msisdn": AGENT, "name": "小王", "rate_ppm": 15_000}
    again = await browser.post("/web/ops/agents/new", {
        "msisdn": AGENT, "name": "x", "tx_password": TX, "tx_again": TX,
        "mgmt_password": MGMT, "mgmt_again": MGMT})
    assert again.status == 409 and "R-1" in again.text


async def _agent_page(browser: Browser, name: str = "clerk") -> str:
    await browser.login_operator(name)
    return (await browser.get("/web/ops/agents/1")).text


async def test_counter_deposit_shows_invoice(browser: Browser, ledger: Ledger,
                                             agent: dict[str, object],
                                             operators: dict[str, str]) -> None:
    """R-8 and R-12: at least 500 yuan x10; the page tells the invoice quota; pays once, and
    the refresh (the same key again) writes no second audit row: one row per effect."""
    key = re.findall(r'name="key" value="(\w+)"', await _agent_page(browser))[0]
    small = await browser.confirmed("/web/ops/agents/1/deposit", {"amount": "400", "key": key})
    assert small.status == 400 and "R-8" in small.text
    for _ in range(2):
        page = await browser.confirmed("/web/ops/agents/1/deposit", {"amount": "800", "key": key})
        assert "定额发票 80.00 元" in page.text and "余额 1300.00 元" in page.text
    assert await sql(ledger, "SELECT COUNT(*) FROM deposits") == [(2,)]
    assert await sql(ledger, "SELECT outcome FROM web_audit WHERE action = 'deposit' "
                             "AND role = 'clerk' ORDER BY id") == [("E_AMOUNT",), ("ok",)]


async def test_suspend_resume(browser: Browser, other: Browser, ledger: Ledger,
                              agent: dict[str, object], operators: dict[str, str]) -> None:
    """R-5: a suspended phone cannot recharge on the web either, until resumed."""
    await _agent_page(browser)
    await browser.confirmed("/web/ops/agents/1/suspend", {"suspended": "1"})
    await other.login_agent(AGENT, MGMT)
    refused = (await recharge(other)).text
    assert "您的手机已停机，不能充值" in refused and "R-5" not in refused
    await browser.confirmed("/web/ops/agents/1/suspend", {"suspended": "0"})
    assert (await recharge(other)).url == "/web/recharges/1"


async def test_unlock(browser: Browser, other: Browser, ledger: Ledger,
                      agent: dict[str, object], operators: dict[str, str]) -> None:
    """An operator unlocks an agent locked by wrong passwords (R-2)."""
    for _ in range(5):
        await other.login_agent(AGENT, "000000")
    assert (await other.login_agent(AGENT, MGMT)).status == 401  # locked: reads as wrong
    await _agent_page(browser, "hotline")
    page = await browser.confirmed("/web/ops/agents/1/unlock", {})
    assert "已解除密码锁定" in page.text
    assert (await other.login_agent(AGENT, MGMT)).url == "/web/home"


async def test_rate_change(browser: Browser, other: Browser, agent: dict[str, object],
                           operators: dict[str, str]) -> None:
    """R-16: a supervisor sets the agent's rate; the next confirmation uses it."""
    await _agent_page(browser, "supervisor")
    assert (await browser.confirmed("/web/ops/agents/1/rate", {"rate": "0.5"})).status == 400
    await browser.confirmed("/web/ops/agents/1/rate", {"rate": "0.05"})
    await other.login_agent(AGENT, MGMT)
    await other.get("/web/recharge")
    page = await other.post("/web/recharge/confirm", {
        "kind": "mobile", "target": "18900001111", "again": "18900001111", "amount": "100"})
    assert "¥95.00" in page.text


async def test_close_with_refund(browser: Browser, ledger: Ledger, agent: dict[str, object],
                                 operators: dict[str, str]) -> None:
    """R-6: refused at 10 yuan or more; under 10 yuan closed with a cash refund."""
    await _agent_page(browser)
    refused = await browser.confirmed("/web/ops/agents/1/close", {"key": "c1"})
    assert refused.status == 422 and "R-6" in refused.text
    for i in range(5):
        await ledger.recharge(RechargeRequest(
                key=f"r{i}", msisdn=AGENT, kind="mobile", target="18900001111", amount_fen=10_000,
                tx_password=TX))
    await ledger.recharge(RechargeRequest(
            key="last", msisdn=AGENT, kind="mobile", target="18900001111", amount_fen=1_000,
            tx_password=TX))
    await browser.get("/web/ops/agents/1")
    page = await browser.confirmed("/web/ops/agents/1/close", {"key": "c2"})
    balance = 50_000 - 5 * 9_800 - 980
    assert f"退还现金 {balance // 100}.{balance % 100:02d} 元" in page.text
    assert "已销户" in page.text and 'id="close-form"' not in page.text


async def test_audit_log_page(browser: Browser, agent: dict[str, object],
                              operators: dict[str, str]) -> None:
    """Every action is listed with who and when; only supervisors see the log."""
    await _agent_page(browser)
    await browser.confirmed("/web/ops/agents/1/unlock", {})
    await browser.login_operator("supervisor")
    page = await browser.get("/web/ops/audit")
    rows = page.text.split('id="audit"')[1]
    assert "clerk (营业员)" in rows and "解除密码锁定" in rows and "A00000001" in rows
    assert rows.count("<tr>") >= 4  # header, two logins, the unlock


async def test_find_agent(browser: Browser, agent: dict[str, object],
                          operators: dict[str, str]) -> None:
    """The start page finds an agent by account number or bound number."""
    await browser.login_operator("hotline")
    for q in ("A00000001", AGENT, "1"):
        assert (await browser.get(f"/web/ops/find?q={q}")).url == "/web/ops/agents/1"
    missing = await browser.get("/web/ops/find?q=18900000000")
    assert missing.status == 404
    assert (await browser.get("/web/ops/agents/99")).status == 404


@pytest.mark.parametrize(("environ", "created"), [
    pytest.param({"SMSMENU_WEB_OPERATOR": "boss", "SMSMENU_WEB_OPERATOR_PASSWORD": "first-pass-1"},
                 ("boss", "supervisor"), id="name-only"),
    pytest.param({"SMSMENU_WEB_OPERATOR": "amy:clerk",
                  "SMSMENU_WEB_OPERATOR_PASSWORD": "first-pass-1"}, ("amy", "clerk"), id="role"),
    pytest.param({"SMSMENU_WEB_OPERATOR": "boss"}, None, id="no-password"),
    pytest.param({}, None, id="unset"),
])
async def test_bootstrap_first_operator(ledger: Ledger, environ: dict[str, str],
                                        created: tuple[str, str] | None) -> None:
    """The first operator may come from the environment, and only while there is none."""
    await bootstrap(ledger, environ)
    rows = await sql(ledger, "SELECT name, role FROM web_operators")
    assert rows == ([created] if created else [])
    await bootstrap(ledger, {**environ, "SMSMENU_WEB_OPERATOR": "second"})
    assert await sql(ledger, "SELECT name, role FROM web_operators") == rows
