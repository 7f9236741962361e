"""Security properties of the portal: headers, cookies, CSRF, sessions, rate limits, no secrets."""

from __future__ import annotations

import pytest
import structlog
from web_support import AGENT, MGMT, TX, Browser, sql, web_recharge

from ledger import Ledger
from smsmenu.core.clock import ManualClock

PAGES = ["/web/login", "/web/login?mode=code", "/web/ops/login"]


@pytest.mark.parametrize("path", [pytest.param(p, id=p) for p in PAGES])
async def test_security_headers(browser: Browser, path: str) -> None:
    """Every page forbids scripts, framing and sniffing, and is not cached."""
    page = await browser.get(path)
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"


async def test_no_inline_script_or_style(browser: Browser, agent: dict[str, object]) -> None:
    """No page carries a script or an inline style (the CSP would block them anyway)."""
    await browser.login_agent(AGENT, MGMT)
    await web_recharge(browser)
    for path in ("/web/home", "/web/recharge", "/web/history", "/web/history/sheet",
                 "/web/account", "/web/topup", "/web/recharges/1"):
        page = await browser.get(path)
        assert page.status == 200
        assert "<script" not in page.text and " style=" not in page.text, path


async def test_session_cookie_flags(browser: Browser, agent: dict[str, object]) -> None:
    """The session cookie is HttpOnly, SameSite=Strict, site-wide, and new at each login."""
    await browser.get("/web/login")
    async with browser.client.post("/web/login", allow_redirects=False, data={
            "csrf": browser.csrf(), "who": AGENT, "password": MGMT}) as response:
        assert response.status == 303
        cookies = [c for c in response.headers.getall("Set-Cookie") if "smsmenu_sid=" in c]
    assert len(cookies) == 1
    flags = cookies[0].lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags


@pytest.mark.parametrize("path", [
    pytest.param("/web/recharge", id="recharge"),
    pytest.param("/web/account/password", id="password"),
    pytest.param("/web/topup", id="topup"),
    pytest.param("/web/logout", id="logout"),
])
async def test_csrf_required(browser: Browser, ledger: Ledger, agent: dict[str, object],
                             path: str) -> None:
    """A form posted without the token, or with a forged one, is refused (403)."""
    await browser.login_agent(AGENT, MGMT)
    data = {"kind": "mobile", "target": "18900001111", "amount_fen": "10000", "key": "k1",
            "tx_password": TX, "purpose": "tx", "old": TX, "new": "222333", "again": "222333",
            "amount": "100"}
    assert (await browser.post(path, data, csrf=False)).status == 403
    assert (await browser.post(path, {**data, "csrf": "0" * 64}, csrf=False)).status == 403
    assert await sql(ledger, "SELECT COUNT(*) FROM recharges") == [(0,)]
    assert (await browser.get("/web/home")).url == "/web/home"  # still logged in


async def test_csrf_token_of_another_browser(browser: Browser, other: Browser,
                                             agent: dict[str, object]) -> None:
    """A token is bound to its browser's cookie: another browser's token does not work."""
    await other.get("/web/login")
    stolen = other.csrf()
    await browser.get("/web/login")
    page = await browser.post("/web/login", {"csrf": stolen, "who": AGENT, "password": MGMT},
                              csrf=False)
    assert page.status == 403


async def test_foreign_origin_refused(browser: Browser, agent: dict[str, object]) -> None:
    """A POST whose Origin is another site is refused even with a valid token."""
    await browser.get("/web/login")
    page = await browser.post("/web/login", {"who": AGENT, "password": MGMT},
                              headers={"Origin": "https://evil.example"})
    assert page.status == 403


@pytest.mark.parametrize(("path", "login"), [
    pytest.param("/web/home", "/web/login", id="agent-home"),
    pytest.param("/web/history.csv", "/web/login", id="agent-csv"),
    pytest.param("/web/ops/", "/web/ops/login", id="ops-home"),
    pytest.param("/web/ops/audit", "/web/ops/login", id="ops-audit"),
])
async def test_login_required(browser: Browser, path: str, login: str) -> None:
    """Pages need a session of the right kind; without one they send to the login page."""
    assert (await browser.get(path)).url == login


async def test_agent_cannot_use_back_office(browser: Browser, agent: dict[str, object],
                                            operators: dict[str, str]) -> None:
    """An agent's session is no operator's, and the other way round."""
    await browser.login_agent(AGENT, MGMT)
    assert (await browser.get("/web/ops/agents/1")).url == "/web/ops/login"
    await browser.login_operator("supervisor")
    assert (await browser.get("/web/home")).url == "/web/login"


async def test_session_expires(browser: Browser, clock: ManualClock,
                               agent: dict[str, object]) -> None:
    """An idle agent session ends after 30 minutes; activity keeps it alive."""
    await browser.login_agent(AGENT, MGMT)
    clock.advance(minutes=20)
    assert (await browser.get("/web/home")).url == "/web/home"
    clock.advance(minutes=25)
    assert (await browser.get("/web/home")).url == "/web/home"
    clock.advance(minutes=31)
    assert (await browser.get("/web/home")).url == "/web/login"


async def test_logout_ends_session(browser: Browser, other: Browser,
                                   agent: dict[str, object]) -> None:
    """After logout the old cookie opens nothing, even replayed from elsewhere."""
    await browser.login_agent(AGENT, MGMT)
    sid = browser.client.session.cookie_jar.filter_cookies(browser.client.make_url("/"))
    token = sid["smsmenu_sid"].value
    await browser.get("/web/home")
    assert (await browser.post("/web/logout", {})).url == "/web/login"
    other.client.session.cookie_jar.update_cookies({"smsmenu_sid": token})
    assert (await other.get("/web/home")).url == "/web/login"


async def test_login_rate_limited(browser: Browser, ledger: Ledger) -> None:
    """Twenty failed logins from one address within an hour: the next try is refused with 429."""
    await browser.get("/web/login")
    for n in range(20):
        assert (await browser.post("/web/login", {"who": f"A000001{n:02d}",
                                                  "password": "000000"})).status == 401
    page = await browser.post("/web/login", {"who": "A00000099", "password": "000000"})
    assert page.status == 429


async def test_language_switch(browser: Browser) -> None:
    """Chinese by default; ?lang=en switches to English and is remembered by a cookie."""
    assert "代办户登录" in (await browser.get("/web/login")).text
    assert "Agent login" in (await browser.get("/web/login?lang=en")).text
    assert "Agent login" in (await browser.get("/web/login")).text
    assert "代办户登录" in (await browser.get("/web/login?lang=zh")).text


async def test_passwords_never_logged(browser: Browser, agent: dict[str, object],
                                      operators: dict[str, str]) -> None:
    """Logins, wrong passwords and recharges log events, never a password."""
    with structlog.testing.capture_logs() as logs:
        await browser.login_agent(AGENT, "999999")
        await browser.login_agent(AGENT, MGMT)
        await web_recharge(browser, password="888888")
        await web_recharge(browser)
        await browser.login_operator("clerk", "wrong-password-9")
        await browser.login_operator("clerk")
    text = repr(logs)
    assert logs and "web.login" in text
    for secret in (MGMT, TX, "999999", "888888", "wrong-password-9", "counter-pass-1"):
        assert secret not in text
