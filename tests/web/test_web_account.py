"""Account settings on the web: both passwords (R-21) and the bound number (R-7, SMS code)."""

from __future__ import annotations

import pytest
from web_support import AGENT, MGMT, SECOND, TX, Browser, last_code, outbox, second_agent, sql
from web_support import web_recharge as recharge

from ledger import Ledger

NEW = "18911112222"


@pytest.fixture
async def logged_in(browser: Browser, agent: dict[str, object]) -> Browser:
    await browser.login_agent(AGENT, MGMT)
    await browser.get("/web/account")
    return browser


@pytest.mark.parametrize(("purpose", "old"), [
    pytest.param("tx", TX, id="transaction"), pytest.param("mgmt", MGMT, id="management")])
async def test_change_password(logged_in: Browser, ledger: Ledger, purpose: str,
                               old: str) -> None:
    """The old password, then the new one twice; the agent is told by SMS."""
    page = await logged_in.post("/web/account/password", {
        "purpose": purpose, "old": old, "new": "246813", "again": "246813"})
    assert page.status == 200 and 'id="done"' in page.text
    assert (await outbox(ledger, "password_changed"))[-1][0] == AGENT
    await ledger.check_password(AGENT, purpose, "246813")


@pytest.mark.parametrize(("fields", "status", "expected"), [
    pytest.param({"old": "000000"}, 422, "还可尝试4次", id="wrong-old"),
    pytest.param({"again": "246814"}, 400, "不一致", id="again-differs"),
    pytest.param({"new": "24681", "again": "24681"}, 400, "6位数字", id="too-short"),
    pytest.param({"new": TX, "again": TX}, 400, "新密码不能与原密码相同", id="same-as-old"),
])
async def test_change_password_refused(logged_in: Browser, ledger: Ledger,
                                       fields: dict[str, str], status: int,
                                       expected: str) -> None:
    """Refusals say why and change nothing."""
    page = await logged_in.post("/web/account/password", {
        "purpose": "tx", "old": TX, "new": "246813", "again": "246813", **fields})
    assert page.status == status and expected in page.text and "R-2" not in page.text
    await ledger.check_password(AGENT, "tx", TX)


async def test_change_bound_number(logged_in: Browser, ledger: Ledger) -> None:
    """R-7: a code to the NEW number plus the management password moves the account."""
    page = await logged_in.post("/web/account/number/code", {"new_msisdn": NEW})
    assert page.status == 200 and 'id="number-change"' in page.text
    code = await last_code(ledger, NEW)
    done = await logged_in.post("/web/account/number", {
        "new_msisdn": NEW, "code": code, "mgmt_password": MGMT})
    assert done.status == 200 and f"绑定号码已更改为 {NEW}" in done.text
    assert await sql(ledger, "SELECT msisdn FROM agents") == [(NEW,)]
    assert (await outbox(ledger, "msisdn_changed"))[-1][0] == NEW
    page = await recharge(logged_in)  # the session follows the agent, not the number
    assert page.url == "/web/recharges/1"


@pytest.mark.parametrize(("code_ok", "password", "status"), [
    pytest.param(False, MGMT, 422, id="wrong-code"),
    pytest.param(True, "000000", 422, id="wrong-password"),
])
async def test_change_number_refused(logged_in: Browser, ledger: Ledger, code_ok: bool,
                                     password: str, status: int) -> None:
    """A wrong code or password changes nothing; a right code survives a wrong password."""
    await logged_in.post("/web/account/number/code", {"new_msisdn": NEW})
    code = await last_code(ledger, NEW)
    typed = code if code_ok else f"{(int(code) + 1) % 1_000_000:06d}"
    page = await logged_in.post("/web/account/number", {
        "new_msisdn": NEW, "code": typed, "mgmt_password": password})
    assert page.status == status
    assert await sql(ledger, "SELECT msisdn FROM agents") == [(AGENT,)]
    if code_ok:
        done = await logged_in.post("/web/account/number", {
            "new_msisdn": NEW, "code": code, "mgmt_password": MGMT})
        assert done.status == 200


async def test_number_taken_or_invalid(logged_in: Browser, ledger: Ledger) -> None:
    """No code is sent to another agent's number or to a non-CDMA number."""
    await second_agent(ledger)
    taken = await logged_in.post("/web/account/number/code", {"new_msisdn": SECOND})
    assert taken.status == 409
    bad = await logged_in.post("/web/account/number/code", {"new_msisdn": "02787654321"})
    assert bad.status == 400
    assert await outbox(ledger, "code_bind") == []
