"""Web lockout (R-2): a stranger's failures lock the web login only, codes count, answers tell
nothing about who is an agent, a failing address is locked out, an operator unlocks both."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from web_support import AGENT, CUSTOMER, MGMT, TX, Browser, Page, last_code, outbox, web_recharge

from ledger import Ledger, passwords
from ledger.api import RechargeRequest
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import AgentLocked, WrongPassword
from smsmenu.core.types import TargetKind
from smsmenu.web import agent_login
from smsmenu.web.errors import AgentLoginFailed, RateLimited

pytestmark = pytest.mark.both_engines

ALERT = re.compile(r'<p class="alert error" role="alert">([^<]*)</p>')
TTL = dt.timedelta(minutes=30)


def alert(page: Page) -> str:
    found = ALERT.search(page.text)
    return found.group(1) if found else ""


async def wrong_codes(browser: Browser, ledger: Ledger, times: int) -> None:
    """Ask for a login code, then post ``times`` wrong ones."""
    await browser.get("/web/login?mode=code")
    await browser.post("/web/login/code/send", {"msisdn": AGENT})
    code = await last_code(ledger, AGENT)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(times):
        page = await browser.post("/web/login/code", {"msisdn": AGENT, "code": wrong})
        assert page.status == 422


async def wrong_logins(browser: Browser, ledger: Ledger, times: int) -> None:
    for _ in range(times):
        assert (await browser.login_agent(AGENT, "000000")).status == 401


STRANGERS = [pytest.param(wrong_logins, id="passwords"), pytest.param(wrong_codes, id="codes")]


# -- a stranger cannot stop the agent selling -----------------------------------------------------
@pytest.mark.parametrize("stranger", STRANGERS)
async def test_five_stranger_requests_never_stop_sms_selling(
        browser: Browser, other: Browser, ledger: Ledger, agent: dict[str, object],
        stranger: Any) -> None:
    """Five failed web logins (passwords or codes) lock the web login only: the agent's SMS
    recharge and balance query (transaction password) go on; the web lock is told by SMS."""
    await stranger(other, ledger, 5)
    done = await ledger.recharge(RechargeRequest(
            key="s1", msisdn=AGENT, kind=TargetKind.MOBILE, target=CUSTOMER, amount_fen=5_000,
            tx_password=TX, channel="sms"))
    assert done.status == "succeeded"
    assert (await ledger.check_password(AGENT, "tx", TX)).available_fen == 45_100
    [(to, text, _)] = await outbox(ledger, "locked_web")
    assert to == AGENT and "网页登录" in text and "10000" in text
    assert (await browser.login_agent(AGENT, MGMT)).status == 401


async def test_code_guesses_count_toward_the_web_lock(browser: Browser, ledger: Ledger,
                                                      clock: ManualClock,
                                                      agent: dict[str, object]) -> None:
    """Wrong login codes count with wrong passwords: 3 + 2 lock; a locked agent gets no code."""
    await wrong_codes(browser, ledger, 3)
    await wrong_logins(browser, ledger, 2)
    assert len(await outbox(ledger, "locked_web")) == 1
    clock.advance(minutes=2)
    sent = len(await outbox(ledger, "code_login"))
    await browser.get("/web/login?mode=code")
    assert (await browser.post("/web/login/code/send", {"msisdn": AGENT})).status == 200
    assert len(await outbox(ledger, "code_login")) == sent
    clock.advance(minutes=28)
    assert (await browser.login_agent(AGENT, MGMT)).url == "/web/home"


async def test_a_right_code_while_locked_reads_as_a_wrong_one(
        browser: Browser, other: Browser, ledger: Ledger, agent: dict[str, object]) -> None:
    """The web lock holds for codes too; the refusal is the one a wrong code gets."""
    await browser.get("/web/login?mode=code")
    await browser.post("/web/login/code/send", {"msisdn": AGENT})
    code = await last_code(ledger, AGENT)
    await wrong_logins(other, ledger, 5)
    right = await browser.post("/web/login/code", {"msisdn": AGENT, "code": code})
    wrong = await browser.post("/web/login/code", {"msisdn": AGENT, "code": "000000"})
    assert (right.status, right.url, alert(right)) == (wrong.status, wrong.url, alert(wrong))


async def test_transaction_failures_leave_the_web_login_open(
        browser: Browser, other: Browser, ledger: Ledger, agent: dict[str, object]) -> None:
    """Five wrong transaction passwords on the web's recharge confirmation lock money only:
    the agent still logs in; the lock is told by SMS."""
    await browser.login_agent(AGENT, MGMT)
    for _ in range(5):
        await web_recharge(browser, password="000000")
    locked = (await web_recharge(browser)).text
    assert "密码错误次数过多" in locked and "R-2" not in locked
    assert len(await outbox(ledger, "locked_tx")) == 1
    assert (await other.login_agent(AGENT, MGMT)).url == "/web/home"


# -- answers and work that tell nothing -----------------------------------------------------------
async def test_unknown_wrong_and_locked_logins_read_the_same(
        browser: Browser, ledger: Ledger, agent: dict[str, object]) -> None:
    """An unknown account or number, a wrong password and a locked login get one answer."""
    await ledger.open_agent(msisdn="18912340000", name="老李", tx_password="111111",
                            mgmt_password="222222")
    for _ in range(5):
        await browser.login_agent("18912340000", "000000")
    pages = [await browser.login_agent(who, password) for who, password in [
        ("A00000009", MGMT), ("18900009999", MGMT), (AGENT, "000000"), (AGENT, TX),
        ("18912340000", "222222")]]
    answers = {(p.status, p.url, alert(p)) for p in pages}
    assert len(answers) == 1, answers
    [(status, _, text)] = answers
    assert status == 401 and "账号或密码错误" in text


async def test_code_logins_read_the_same_for_any_number(browser: Browser, ledger: Ledger,
                                                        agent: dict[str, object]) -> None:
    """A code for an unknown number, for an agent that has none, and a wrong one: one answer."""
    await browser.get("/web/login?mode=code")
    first = await browser.post("/web/login/code", {"msisdn": "18900009999", "code": "123456"})
    second = await browser.post("/web/login/code", {"msisdn": AGENT, "code": "123456"})
    await browser.post("/web/login/code/send", {"msisdn": AGENT})
    code = await last_code(ledger, AGENT)
    third = await browser.post("/web/login/code", {
        "msisdn": AGENT, "code": f"{(int(code) + 1) % 1_000_000:06d}"})
    answers = {(p.status, alert(p)) for p in (first, second, third)}
    assert len(answers) == 1, answers


async def test_code_requests_read_the_same_for_any_number(browser: Browser, ledger: Ledger,
                                                          agent: dict[str, object]) -> None:
    """Asking twice within a minute: an agent's number and a stranger's get the same answers."""
    await browser.get("/web/login?mode=code")
    answers = []
    for number in (AGENT, "18900009999"):
        pages = [await browser.post("/web/login/code/send", {"msisdn": number})
                 for _ in range(2)]
        answers.append([(p.status, alert(p)) for p in pages])
    assert answers[0] == answers[1] and answers[0][1][0] == 429
    assert len(await outbox(ledger, "code_login")) == 1


async def test_an_unknown_account_costs_the_same_hashing(browser: Browser,
                                                         agent: dict[str, object],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Timing tells nothing: a login to nobody computes a password digest like a wrong one."""
    calls: list[str] = []
    digest = passwords.digest

    def counted(secret: bytes, salt: bytes, purpose: str, password: str) -> bytes:
        calls.append(purpose)
        return digest(secret, salt, purpose, password)
    monkeypatch.setattr(passwords, "digest", counted)
    work = []
    for who in (AGENT, "A00000009", "18900009999"):
        calls.clear()
        assert (await browser.login_agent(who, "000000")).status == 401
        work.append(list(calls))
    assert work == [["mgmt"]] * 3


# -- per source address ---------------------------------------------------------------------------
async def test_an_address_failing_on_many_accounts_is_locked_out(
        ledger: Ledger, clock: ManualClock, agent: dict[str, object]) -> None:
    """20 failures in an hour from one address, each on another account: that address may not
    log in at all, even with a right password; other addresses may; an hour later it may."""
    async def login(ip: str, who: str, password: str) -> Any:
        return await ledger.op(agent_login._password_login, who=who, password=password, ip=ip,
                               ttl=TTL)
    for n in range(20):
        with pytest.raises(AgentLoginFailed):
            await login("10.0.0.1", f"A{100 + n:08d}", "000000")
        clock.advance(minutes=2)
    with pytest.raises(RateLimited):
        await login("10.0.0.1", AGENT, MGMT)
    assert (await login("10.0.0.2", AGENT, MGMT))[1] == 1
    clock.advance(minutes=21)
    assert (await login("10.0.0.1", AGENT, MGMT))[1] == 1


# -- the back office ------------------------------------------------------------------------------
async def test_back_office_unlock_clears_both_locks(
        browser: Browser, other: Browser, ledger: Ledger, clock: ManualClock,
        agent: dict[str, object], operators: dict[str, str]) -> None:
    """The unlock button lifts the web lock and the money lock and restarts both ladders."""
    await wrong_logins(other, ledger, 5)
    for refusal in [WrongPassword] * 4 + [AgentLocked]:
        with pytest.raises(refusal):
            await ledger.check_password(AGENT, "tx", "000000")
    await browser.login_operator("hotline")
    page = await browser.get("/web/ops/agents/1")
    assert 'id="money-lock"' in page.text and 'id="web-lock"' in page.text  # both shown
    assert "网站登录锁定至" in page.text
    assert "已解除密码锁定" in (await browser.confirmed("/web/ops/agents/1/unlock", {})).text
    assert (await other.login_agent(AGENT, MGMT)).url == "/web/home"
    assert (await ledger.check_password(AGENT, "tx", TX)).msisdn == AGENT
    view = await ledger.agent(AGENT)
    assert (view.locked_until, view.web_locked_until) == (None, None)
