"""Agent login: account no. or bound number + management password, or a one-time SMS code."""

from __future__ import annotations

import pytest
from web_support import AGENT, MGMT, TX, Browser, last_code, outbox

from ledger import Ledger
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import WebLocked

pytestmark = pytest.mark.both_engines


@pytest.mark.parametrize("who", [
    pytest.param("A00000001", id="account-no"),
    pytest.param("a00000001", id="account-no-lowercase"),
    pytest.param(AGENT, id="bound-number"),
    pytest.param("189-1234-5678", id="number-with-dashes"),
])
async def test_password_login(browser: Browser, agent: dict[str, object], who: str) -> None:
    """R-4: the account number or the bound number with the management password logs in."""
    page = await browser.login_agent(who, MGMT)
    assert page.url == "/web/home" and "小王" in page.text and "500.00" in page.text


@pytest.mark.parametrize(("who", "password", "status"), [
    pytest.param("A00000002", MGMT, 401, id="unknown-account"),
    pytest.param("18900009999", MGMT, 401, id="unknown-number"),
    pytest.param(AGENT, TX, 401, id="transaction-password-is-not-the-login"),
    pytest.param(AGENT, "12ab56", 400, id="malformed"),
])
async def test_login_refused(browser: Browser, agent: dict[str, object], who: str,
                             password: str, status: int) -> None:
    """Wrong or unknown credentials keep the visitor on the login page with the reason."""
    page = await browser.login_agent(who, password)
    assert page.status == status and page.url == "/web/login"
    assert "alert error" in page.text


async def test_wrong_passwords_lock_the_web_login_only(browser: Browser, ledger: Ledger,
                                                       agent: dict[str, object]) -> None:
    """R-2: five wrong web logins lock the web login (the right password then reads the same
    as a wrong one) and queue the SMS that tells the agent; the menu's password still works."""
    for _ in range(5):
        assert (await browser.login_agent(AGENT, "000000")).status == 401
    page = await browser.login_agent(AGENT, MGMT)
    assert page.status == 401 and page.url == "/web/login"
    assert len(await outbox(ledger, "locked_web")) == 1
    assert (await ledger.check_password(AGENT, "tx", TX)).msisdn == AGENT
    with pytest.raises(WebLocked):
        await ledger.check_password(AGENT, "mgmt", MGMT)


async def test_closed_agent_cannot_log_in(browser: Browser, ledger: Ledger) -> None:
    """R-6: a closed agent's account is gone for the web too."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    await ledger.close_agent(key="c1", msisdn=AGENT)
    assert (await browser.login_agent("A00000001", MGMT)).status == 401


async def _send(browser: Browser, msisdn: str = AGENT) -> int:
    await browser.get("/web/login?mode=code")
    return (await browser.post("/web/login/code/send", {"msisdn": msisdn})).status


async def test_code_login(browser: Browser, ledger: Ledger, agent: dict[str, object]) -> None:
    """A code goes by SMS (the outbox) to the bound number and logs the agent in once."""
    assert await _send(browser) == 200
    code = await last_code(ledger, AGENT)
    page = await browser.post("/web/login/code", {"msisdn": AGENT, "code": code})
    assert page.url == "/web/home"
    await browser.post("/web/logout", {})
    await browser.get("/web/login?mode=code")
    again = await browser.post("/web/login/code", {"msisdn": AGENT, "code": code})
    assert again.status == 422 and again.url == "/web/login/code"


async def test_code_expires(browser: Browser, ledger: Ledger, clock: ManualClock,
                            agent: dict[str, object]) -> None:
    """A code is good for 5 minutes."""
    await _send(browser)
    code = await last_code(ledger, AGENT)
    clock.advance(minutes=5, seconds=1)
    page = await browser.post("/web/login/code", {"msisdn": AGENT, "code": code})
    assert page.status == 422


async def test_code_guesses_spend_it(browser: Browser, ledger: Ledger,
                                     agent: dict[str, object]) -> None:
    """Five wrong guesses spend the code: the right one no longer works."""
    await _send(browser)
    code = await last_code(ledger, AGENT)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert (await browser.post("/web/login/code", {"msisdn": AGENT,
                                                       "code": wrong})).status == 422
    assert (await browser.post("/web/login/code", {"msisdn": AGENT,
                                                   "code": code})).status == 422


async def test_code_rate_limited(browser: Browser, ledger: Ledger, clock: ManualClock,
                                 agent: dict[str, object]) -> None:
    """One code a minute and five an hour per number; a new code voids the previous one."""
    assert await _send(browser) == 200
    first = await last_code(ledger, AGENT)
    assert await _send(browser) == 429
    for _ in range(4):
        clock.advance(seconds=61)
        assert await _send(browser) == 200
    clock.advance(seconds=61)
    assert await _send(browser) == 429
    assert len(await outbox(ledger, "code_login")) == 5
    latest = await last_code(ledger, AGENT)
    if first != latest:
        page = await browser.post("/web/login/code", {"msisdn": AGENT, "code": first})
        assert page.status == 422


async def test_code_for_unknown_number(browser: Browser, ledger: Ledger) -> None:
    """A number without an agent gets the same answer, and no SMS is queued."""
    page_status = await _send(browser, "18900008888")
    assert page_status == 200
    assert await outbox(ledger) == []
