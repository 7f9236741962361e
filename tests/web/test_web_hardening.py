"""The security review's findings on the portal and the bank: each input class that answered 500
with a traceback now answers a clear 4xx carrying the security headers, and the legitimate
request next to it still works; the bank's URLs come from [web] public_url, never from Host."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from web_support import AGENT, MGMT, Browser, web_recharge

from ledger import Ledger
from simulator import bank as bank_module
from simulator.bank import bank_app
from smsmenu.core.bank_wire import sign
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings, load_settings
from smsmenu.web import bank_key, ops_login, render, setup_web
from smsmenu.web.state import Web, listener_url

HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
           "Referrer-Policy", "Cache-Control")
BAD_BOUNDARY = [
    pytest.param("multipart/form-data", b"--x\r\n", id="no-boundary"),
    pytest.param("multipart/form-data; boundary=", b"--x\r\n", id="empty-boundary"),
    pytest.param("multipart/form-data; boundary=abc", b"garbage", id="boundary-not-in-body"),
    pytest.param("multipart/form-data; boundary=" + "x" * 100, b"--x\r\n", id="boundary-too-long"),
    pytest.param("multipart/form-data; boundary=abc",
                 b'--abc\r\nContent-Disposition: form-data; name="a"\r\n\r\nv', id="unterminated"),
    pytest.param("multipart/form-data; boundary=abc",
                 b"--abc\r\nContent-Disposition: ;;\r\n\r\nv\r\n--abc--\r\n", id="part-no-name"),
    pytest.param("multipart/form-data; boundary=abc",
                 b'--abc\r\nContent-Disposition: form-data; name="a"\r\n'
                 b"Content-Transfer-Encoding: bogus\r\n\r\nv\r\n--abc--\r\n", id="bad-part-encoding"),
    pytest.param("application/x-www-form-urlencoded; charset=bogus", b"a=b", id="unknown-charset"),
    pytest.param("application/x-www-form-urlencoded", b"a=\xff\xfe", id="not-utf8"),
]


def secured(headers: Mapping[str, str]) -> None:
    """The security headers every answer carries."""
    for name in HEADERS:
        assert name in headers, name
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


async def answer(response: ClientResponse) -> tuple[int, str]:
    """Status and body of a response, checked for headers and for any trace of a traceback."""
    text = await response.text(errors="replace")
    secured(response.headers)
    assert "Traceback" not in text and 'File "' not in text
    return response.status, text


@pytest.fixture
async def agent_in(browser: Browser, agent: dict[str, object]) -> Browser:
    """The agent logged in, one recharge made (receipt 1)."""
    await browser.login_agent(AGENT, MGMT)
    await web_recharge(browser)
    return browser


@pytest.fixture
async def supervisor_in(browser: Browser, agent: dict[str, object],
                        operators: dict[str, str]) -> Browser:
    await browser.login_operator("supervisor")
    return browser


@pytest.mark.parametrize(("path", "status", "says"), [
    pytest.param("/web/recharges/²", 404, "找不到", id="receipt-id"),
    pytest.param("/web/recharges/1²/retry", 404, "找不到", id="retry-id"),
    pytest.param("/web/recharges/١", 404, "找不到", id="arabic-indic-id"),
    pytest.param("/web/history?page=²", 400, "1至100000", id="history-page"),
    pytest.param("/web/history?page=0", 400, "1至100000", id="history-page-zero"),
    pytest.param("/web/history?lang=en&page=abc", 400, "a whole number from 1 to 100000",
                 id="history-page-text"),
    pytest.param("/web/recharges/1", 200, "", id="legit-receipt"),
    pytest.param("/web/history?page=1", 200, "", id="legit-page"),
])
async def test_agent_unicode_digits(agent_in: Browser, path: str, status: int, says: str) -> None:
    """Unicode digits (``²``, ``١``: str.isdigit but not int) in ids and pages are a clear 4xx."""
    async with agent_in.client.get(path) as response:
        got, text = await answer(response)
    assert got == status and says in text


@pytest.mark.parametrize(("path", "data", "status", "says"), [
    pytest.param("/web/recharge/confirm", {"kind": "mobile", "target": "18900001111",
                                           "again": "18900001111", "amount": "1²0"}, 400,
                 "金额格式不正确", id="confirm-amount"),
    pytest.param("/web/recharge", {"kind": "mobile", "target": "18900001111",
                                   "amount_fen": "1²0", "key": "k1", "tx_password": "123456"},
                 400, "请填写", id="submit-amount-fen"),
    pytest.param("/web/recharge/edit", {"kind": "mobile", "target": "18900001111",
                                        "amount_fen": "1²0"}, 200, "", id="edit-amount-fen"),
    pytest.param("/web/topup", {"amount": "1²0"}, 400, "金额格式不正确", id="topup-amount"),
    pytest.param("/web/recharges/1/retry", {"key": "k²", "tx_password": "123456"}, 404,
                 "找不到", id="retry-key"),
    pytest.param("/web/recharge/confirm", {"kind": "mobile", "target": "18900001111",
                                           "again": "18900001111", "amount": "120"}, 200,
                 "确认", id="legit-confirm"),
])
async def test_agent_unicode_amounts(agent_in: Browser, path: str, data: dict[str, str],
                                     status: int, says: str) -> None:
    """Amounts with Unicode digits are refused as amounts (400), never a 500."""
    await agent_in.get("/web/recharge")
    page = await agent_in.post(path, data)
    secured(page.headers)
    assert page.status == status and says in page.text, page.text[-500:]


@pytest.mark.parametrize(("method", "path", "data", "status"), [
    pytest.param("get", "/web/ops/agents/²", {}, 404, id="agent-id"),
    pytest.param("post", "/web/ops/agents/²/deposit", {"amount": "100"}, 404, id="deposit-id"),
    pytest.param("post", "/web/ops/agents/1/deposit", {"amount": "1²0"}, 400,
                 id="deposit-amount"),
    pytest.param("post", "/web/ops/agents/1/rate", {"rate": "0.0²"}, 400, id="rate"),
    pytest.param("get", "/web/ops/operators/²", {}, 404, id="operator-id"),
    pytest.param("get", "/web/ops/recharges/²/reversal", {}, 404, id="reversal-id"),
    pytest.param("get", "/web/ops/audit?page=²", {}, 400, id="audit-page"),
    pytest.param("get", "/web/ops/find?q=A²", {}, 404, id="find"),
    pytest.param("get", "/web/ops/agents/1", {}, 200, id="legit-agent"),
    pytest.param("get", "/web/ops/audit?page=1", {}, 200, id="legit-audit"),
    pytest.param("post", "/web/ops/agents/1/deposit", {"amount": "800"}, 200,
                 id="legit-deposit"),
])
async def test_ops_unicode_digits(supervisor_in: Browser, method: str, path: str,
                                  data: dict[str, str], status: int) -> None:
    """The back office's ids, pages and amounts take ASCII digits only; others are a 4xx."""
    page = await (supervisor_in.post(path, data) if method == "post" else supervisor_in.get(path))
    secured(page.headers)
    assert page.status == status, page.text[-500:]


@pytest.mark.parametrize(("path", "status"), [
    pytest.param("/web/history?to=9999-12-31", 400, id="history-to-max"),
    pytest.param("/web/history?from=0001-01-01&to=0001-01-07", 400, id="history-min"),
    pytest.param("/web/history?to=0001-01-01", 400, id="history-to-min"),
    pytest.param("/web/history?from=1999-12-31&to=2000-01-01", 400, id="history-before-2000"),
    pytest.param("/web/history?to=2100-01-01", 400, id="history-after-2099"),
    pytest.param("/web/history?to=2026-02-30", 400, id="history-no-such-day"),
    pytest.param("/web/history?to=20261110", 400, id="history-compact"),
    pytest.param("/web/history?to=2026-W45-2", 400, id="history-week-date"),
    pytest.param("/web/history?to=２０２６-11-10", 400, id="history-fullwidth"),
    pytest.param("/web/history.csv?to=9999-12-31", 400, id="csv-to-max"),
    pytest.param("/web/history/sheet?from=9999-12-31&to=9999-12-31", 400, id="sheet-max"),
    pytest.param("/web/history?from=2026-11-01&to=2026-11-10", 200, id="legit-history"),
    pytest.param("/web/history.csv?from=2026-11-01&to=2026-11-10", 200, id="legit-csv"),
    pytest.param("/web/history?from=2000-01-01&to=2000-01-01", 200, id="legit-first-day"),
])
async def test_history_dates(agent_in: Browser, path: str, status: int) -> None:
    """History dates are YYYY-MM-DD from 2000-01-01 to 2099-12-31; others a 400 saying so (in
    words: 年-月-日)."""
    async with agent_in.client.get(path) as response:
        got, text = await answer(response)
    assert got == status
    if status == 400:
        assert "年-月-日" in text and "2000-01-01" in text and "2099-12-31" in text


@pytest.mark.parametrize(("date", "status"), [
    pytest.param("9999-12-31", 400, id="max"),
    pytest.param("0001-01-01", 400, id="min"),
    pytest.param("2026-11-10", 200, id="legit"),
])
async def test_report_dates(supervisor_in: Browser, date: str, status: int) -> None:
    """The settlement report (page and CSV) refuses a date out of range with 400."""
    for path in ("/web/ops/report", "/web/ops/report.csv"):
        async with supervisor_in.client.get(f"{path}?date={date}") as response:
            assert (await answer(response))[0] == status


@pytest.mark.parametrize(("origin", "status"), [
    pytest.param("null", 403, id="null"),
    pytest.param("http://[", 403, id="unparsable"),
    pytest.param("file://", 403, id="file"),
    pytest.param("https://evil.example", 403, id="foreign"),
    pytest.param("", 403, id="empty"),
    pytest.param(None, 303, id="legit-absent"),
    pytest.param("same", 303, id="legit-same-origin"),
])
async def test_origin(browser: Browser, agent: dict[str, object], origin: str | None,
                      status: int) -> None:
    """A login POST with an Origin that is not this site (``null`` included) is a 403."""
    await browser.get("/web/login")
    headers = {}
    if origin is not None:
        headers["Origin"] = (str(browser.client.make_url("")).rstrip("/") if origin == "same"
                             else origin)
    async with browser.client.post("/web/login", allow_redirects=False, headers=headers, data={
            "csrf": browser.csrf(), "who": AGENT, "password": MGMT}) as response:
        got, text = await answer(response)
    assert got == status
    if status == 403:
        assert "E_CSRF" in text


@pytest.mark.parametrize("token", [pytest.param("²", id="unicode-digit"),
                                   pytest.param("é" * 64, id="non-ascii"),
                                   pytest.param("", id="empty")])
async def test_csrf_token_not_ascii(browser: Browser, agent: dict[str, object],
                                    token: str) -> None:
    """A CSRF token that is not ASCII is a forged one: 403, not a 500."""
    await browser.get("/web/login")
    async with browser.client.post("/web/login", data={"csrf": token, "who": AGENT,
                                                       "password": MGMT}) as response:
        got, text = await answer(response)
    assert got == 403 and "E_CSRF" in text


@pytest.mark.parametrize(("method", "path", "status"), [
    pytest.param("POST", "/web/login/extra", 404, id="unknown-path"),
    pytest.param("POST", "/web/history", 405, id="get-only"),
])
async def test_unrouted_post(browser: Browser, method: str, path: str, status: int) -> None:
    """A POST to no route is a 404 or 405, whatever its CSRF token."""
    async with browser.client.request(method, path, data={"csrf": "x"}) as response:
        assert (await answer(response))[0] == status


async def test_origin_of_public_url(browser: Browser, agent: dict[str, object],
                                    web_state: Web) -> None:
    """Behind a proxy the browser's Origin is the public URL's: it is this site too."""
    web_state.public_url = "https://recharge.example.com"
    await browser.get("/web/login")
    async with browser.client.post("/web/login", allow_redirects=False, data={
            "csrf": browser.csrf(), "who": AGENT, "password": MGMT},
            headers={"Origin": "https://recharge.example.com"}) as response:
        assert (await answer(response))[0] == 303


def _notice(ledger: Ledger, **change: str) -> dict[str, str]:
    notice = {"merchant": "smsmenu", "order": "T1", "amount_fen": "10000", "status": "paid",
              "txn": "B1"}
    notice["sign"] = sign(bank_key(ledger), notice)
    return {**notice, **change}


@pytest.mark.parametrize(("change", "status"), [
    pytest.param({"sign": "é" * 64}, 403, id="non-ascii-sign"),
    pytest.param({"sign": "签名"}, 403, id="cjk-sign"),
    pytest.param({"sign": "A" * 64}, 403, id="upper-hex-sign"),
    pytest.param({"order": "T²"}, 403, id="non-ascii-field"),
    pytest.param({}, 400, id="legit-signature-unknown-order"),
])
async def test_notify_signature(browser: Browser, ledger: Ledger, change: dict[str, str],
                                status: int) -> None:
    """The bank's notice with a non-ASCII or malformed sign is a 403 'bad signature'."""
    async with browser.client.post("/web/topup/notify", data=_notice(ledger, **change)) as r:
        got, text = await answer(r)
    assert got == status
    assert text == ("bad signature" if status == 403 else "unknown order")


@pytest.mark.parametrize("method", [pytest.param("get", id="page"), pytest.param("post", id="pay")])
@pytest.mark.parametrize("given", [pytest.param("é" * 64, id="non-ascii"),
                                   pytest.param("\U0001f600", id="emoji")])
async def test_bank_signature(browser: Browser, method: str, given: str) -> None:
    """The bank's /pay with a non-ASCII sign is a 403 page, not a 500."""
    fields = {"merchant": "smsmenu", "order": "T1", "amount_fen": "100", "notify_url": "x",
              "return_url": "y", "sign": given}
    kw: dict[str, Any] = {"params": fields} if method == "get" else {"data": fields}
    async with browser.client.request(method.upper(), "/bank/pay", **kw) as response:
        got, text = await answer(response)
    assert got == 403 and "Bad signature" in text


ROUTES = [
    pytest.param("/web/login", id="login"),
    pytest.param("/web/ops/login", id="ops-login"),
    pytest.param("/web/topup/notify", id="notify"),
    pytest.param("/bank/pay", id="bank-pay"),
]


@pytest.mark.parametrize(("content_type", "body"), BAD_BOUNDARY)
@pytest.mark.parametrize("path", ROUTES)
async def test_unreadable_form(browser: Browser, path: str, content_type: str,
                               body: bytes) -> None:
    """A body that is no readable form is a 4xx: multipart is refused by the listener (415), a
    form in an unknown charset or not in UTF-8 is a 400 saying what to send."""
    await browser.get("/web/login")
    async with browser.client.post(path, data=body,
                                   headers={"Content-Type": content_type}) as response:
        got, text = await answer(response)
    if content_type.startswith("multipart/"):
        assert got == 415 and "multipart" in text
    else:
        assert got == 400
        assert "x-www-form-urlencoded" in text or "Unreadable" in text


@pytest.mark.parametrize("content_type", [pytest.param(";0*", id="index-error"),
                                          pytest.param("x;0*", id="type-then-index-error")])
@pytest.mark.parametrize("path", [*ROUTES, pytest.param("/elsewhere", id="root")])
async def test_unparsable_content_type(browser: Browser, path: str, content_type: str) -> None:
    """A Content-Type aiohttp's own parser chokes on is a 400, before any middleware reads it."""
    async with browser.client.post(path, data=b"a=b",
                                   headers={"Content-Type": content_type}) as response:
        got, text = await answer(response)
    assert got == 400 and "Content-Type" in text


@pytest.fixture
async def bare(ledger: Ledger, settings: Settings, clock: ManualClock,
               agent: dict[str, object]) -> AsyncIterator[Browser]:
    """A browser on the portal mounted on an app that takes multipart bodies (no listener
    middleware): the portal's own form reading is the last line."""
    app = web.Application()
    setup_web(app, ledger, settings, clock, simulated_bank=bank_app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Browser(client)


@pytest.mark.parametrize(("content_type", "body"), BAD_BOUNDARY)
@pytest.mark.parametrize("path", [pytest.param("/web/login", id="login"),
                                  pytest.param("/web/topup/notify", id="notify"),
                                  pytest.param("/bank/pay", id="bank-pay")])
async def test_portal_reads_forms_safely(bare: Browser, path: str, content_type: str,
                                         body: bytes) -> None:
    """Where multipart does reach the portal, a bad boundary (or charset...) is a 400 saying
    what to send, on every form POST."""
    await bare.get("/web/login")
    async with bare.client.post(path, data=body,
                                headers={"Content-Type": content_type}) as response:
        got, text = await answer(response)
    assert got == 400
    assert "x-www-form-urlencoded" in text or "Unreadable" in text


async def test_portal_reads_good_multipart(bare: Browser) -> None:
    """A well-formed multipart/form-data login (CSRF token inside) logs in there."""
    await bare.get("/web/login")
    boundary = "b0undary"
    fields = {"csrf": bare.csrf(), "who": AGENT, "password": MGMT}
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in fields.items()) + f"--{boundary}--\r\n"
    async with bare.client.post("/web/login", data=body.encode(), allow_redirects=False,
                                headers={"Content-Type": f"multipart/form-data; "
                                                         f"boundary={boundary}"}) as response:
        assert (await answer(response))[0] == 303


async def test_unreadable_form_logged_in(agent_in: Browser) -> None:
    """A logged-in agent's form in an unknown charset is a 400 too (read by the CSRF check)."""
    async with agent_in.client.post("/web/recharge/confirm", data=b"a=b", headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=bogus"}) as response:
        got, text = await answer(response)
    assert got == 400 and "E_BAD_FORM" in text


@pytest.mark.parametrize(("method", "path", "status"), [
    pytest.param("GET", "/web/no-such-page", 404, id="portal-404"),
    pytest.param("GET", "/web", 404, id="portal-no-slash"),
    pytest.param("GET", "/web/static/no-such.css", 404, id="static-404"),
    pytest.param("GET", "/web/static/" + "x" * 300, 404, id="static-name-too-long"),
    pytest.param("GET", "/web/static/%00", 404, id="static-nul"),
    pytest.param("PUT", "/web/login", 405, id="portal-405"),
    pytest.param("DELETE", "/web/topup/notify", 405, id="notify-405"),
    pytest.param("GET", "/bank/no-such-page", 404, id="bank-404"),
    pytest.param("PUT", "/bank/pay", 405, id="bank-405"),
    pytest.param("GET", "/bank/pay", 403, id="bank-403"),
    pytest.param("POST", "/bank/notify-again/T0", 404, id="bank-json-404"),
    pytest.param("GET", "/web/home", 303, id="redirect"),
    pytest.param("GET", "/", 303, id="root-redirect"),
    pytest.param("GET", "/elsewhere", 404, id="root-404"),
    pytest.param("GET", "/api/sms", 404, id="transport-not-here"),
    pytest.param("GET", "/web/login", 200, id="page"),
    pytest.param("GET", "/web/static/app.css", 200, id="static"),
    pytest.param("GET", "/bank/bank.css", 200, id="bank-css"),
])
async def test_every_answer_has_headers(browser: Browser, method: str, path: str,
                                        status: int) -> None:
    """Errors, redirects and 404s carry the security headers as pages do."""
    async with browser.client.request(method, path, allow_redirects=False) as response:
        assert (await answer(response))[0] == status
        if status == 405:
            assert "Allow" in response.headers


@pytest.mark.parametrize("path", [pytest.param("/web/login", id="portal"),
                                  pytest.param("/bank/pay", id="bank"),
                                  pytest.param("/elsewhere", id="root")])
async def test_too_large_form(browser: Browser, path: str) -> None:
    """A form over 64 KB is a 413 with the headers."""
    await browser.get("/web/login")
    async with browser.client.post(path, data={"csrf": browser.csrf(),
                                               "who": "x" * 70_000}) as response:
        assert (await answer(response))[0] == 413


async def test_unexpected_error_is_a_plain_500(browser: Browser,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug becomes a 500 page with the headers, no traceback and no detail of the bug."""
    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("internal detail 42")
    monkeypatch.setattr(ops_login, "page", broken)
    async with browser.client.get("/web/ops/login") as response:
        got, text = await answer(response)
    assert got == 500 and "E_INTERNAL" in text and "internal detail" not in text


async def test_unexpected_error_in_rendering(browser: Browser,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when the error page cannot be rendered the 500 is plain text with the headers."""
    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("internal detail 42")
    monkeypatch.setattr(render.aiohttp_jinja2, "render_template", broken)
    async with browser.client.get("/web/login") as response:
        got, text = await answer(response)
    assert got == 500 and text.startswith("E_INTERNAL") and "internal detail" not in text


async def test_bank_unexpected_error(browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bank's bugs too are a plain 500 with the headers."""
    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("internal detail 42")
    monkeypatch.setattr(bank_module, "_request", broken)
    async with browser.client.get("/bank/pay") as response:
        got, text = await answer(response)
    assert got == 500 and "internal detail" not in text


async def test_bank_urls_from_public_url(browser: Browser, agent: dict[str, object],
                                         web_state: Web) -> None:
    """The bank's notify and return URLs come from [web] public_url; a forged Host changes
    nothing."""
    web_state.public_url = "https://recharge.example.com"
    await browser.login_agent(AGENT, MGMT)
    await browser.get("/web/topup")
    async with browser.client.post("/web/topup", allow_redirects=False, headers={
            "Host": "evil.example", "X-Forwarded-Host": "evil.example"}, data={
            "csrf": browser.csrf(), "amount": "100"}) as response:
        assert (await answer(response))[0] == 303
        query = parse_qs(urlsplit(response.headers["Location"]).query)
    order = query["order"][0]
    assert query["notify_url"] == ["https://recharge.example.com/web/topup/notify"]
    assert query["return_url"] == [f"https://recharge.example.com/web/topup/{order}"]


@pytest.mark.parametrize(("web", "url"), [
    pytest.param({"public_url": "https://recharge.example.com/"}, "https://recharge.example.com",
                 id="configured"),
    pytest.param({"host": "127.0.0.1", "port": 8081}, "http://127.0.0.1:8081", id="listener"),
    pytest.param({"host": "0.0.0.0", "port": 9000}, "http://127.0.0.1:9000", id="wildcard"),
    pytest.param({"host": "::1", "port": 9000}, "http://[::1]:9000", id="ipv6"),
])
def test_public_url_setting(settings: Settings, web: dict[str, Any], url: str) -> None:
    """[web] public_url, else the portal's listener: never anything from a request."""
    configured = settings.replace("web", **{"public_url": "", **web})
    assert (configured.web.public_url.rstrip("/") or listener_url(configured)) == url


async def test_secure_cookies(settings: Settings, ledger: Ledger, clock: ManualClock,
                              agent: dict[str, object]) -> None:
    """With [web] secure_cookies (the default) every cookie the portal sets is Secure."""
    assert load_settings(env={}).web.secure_cookies
    secure = settings.replace("web", secure_cookies=True)
    app = web.Application()
    setup_web(app, ledger, secure, clock, simulated_bank=bank_app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        async with client.get("/web/login?lang=zh") as first:
            cookies = first.headers.getall("Set-Cookie")
            token = re.search(r'name="csrf" value="([0-9a-f]+)"', await first.text())
        pre = re.search(r"smsmenu_pre=([^;]+)", " ".join(cookies))
        assert token is not None and pre is not None
        async with client.post("/web/login", allow_redirects=False, data={
                "csrf": token.group(1), "who": AGENT, "password": MGMT},
                headers={"Cookie": f"smsmenu_pre={pre.group(1)}"}) as second:
            assert second.status == 303
            cookies += second.headers.getall("Set-Cookie")
    names = {c.split("=")[0] for c in cookies}
    assert {"smsmenu_pre", "smsmenu_lang", "smsmenu_sid"} <= names
    assert all("Secure" in c for c in cookies), cookies
