"""Fuzz every route of the web listener (portal, back office, top-up notice, simulated bank):
whatever the path segments, query, form body and headers, never a 500, never a traceback, and
always the security headers.

Each route gets 200 examples (``HYPOTHESIS_PROFILE=chaos``, registered in tests/web/conftest.py:
2,000), as an anonymous visitor, the agent or an operator of each role, with a valid, missing or
forged CSRF token; the review's input classes are explicit examples on every route.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from web_support import AGENT, MGMT, TX

from ledger import Ledger
from ledger.api import RechargeRequest
from ledger.context import Env
from simulator.bank import bank_app
from smsmenu.core.bank_wire import sign
from smsmenu.core.types import TargetKind
from smsmenu.web import MODULES, PREFIX, sessions
from smsmenu.web.state import Web

EXAMPLES = max(200, hypothesis_settings.default.max_examples)
FUZZ = hypothesis_settings(max_examples=EXAMPLES, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                  HealthCheck.too_slow])
HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
           "Referrer-Policy", "Cache-Control")
ROLES = ("anonymous", "agent", "clerk", "hotline", "supervisor")
OPERATOR_IDS = {"clerk": 1, "hotline": 2, "supervisor": 3}


def _routes() -> list[tuple[str, str]]:
    """(method, path) of every route of the listener: the portal's, the bank's, the root."""
    found = [(str(r.method), f"{PREFIX}{r.path}") for m in MODULES for r in m.routes
             if isinstance(r, web.RouteDef)]
    found += [(r.method, f"/bank{r.resource.canonical}") for r in bank_app(b"k").router.routes()
              if r.method != "HEAD" and r.resource is not None]
    return [*found, ("GET", "/"), ("GET", f"{PREFIX}/static/{{filename}}")]


ROUTES = _routes()
SIGNED = {("POST", f"{PREFIX}/topup/notify"): ("merchant", "order", "amount_fen", "status", "txn"),
          ("GET", "/bank/pay"): ("merchant", "order", "amount_fen", "notify_url", "return_url")}
"""Routes that check the bank's signature: with a "valid" token their fields are signed too."""
FIELDS = ("csrf", "who", "password", "mode", "msisdn", "code", "kind", "target", "again",
          "amount", "amount_fen", "key", "notice", "tx_password", "purpose", "old", "new",
          "new_msisdn", "mgmt_password", "name", "role", "rate", "suspended", "active",
          "tx_again", "mgmt_again", "decision", "merchant", "order", "status", "txn", "sign",
          "notify_url", "return_url")
QUERY_KEYS = ("page", "from", "to", "date", "q", "number", "lang", "done", "cancelled", "mode",
              "merchant", "order", "amount_fen", "notify_url", "return_url", "sign")
NASTY = ("²", "1²0", "١٢٣", "１００", "1e9", "NaN", "-1", "0", "00000000000000000001",
         "9" * 40, "9999-12-31", "0001-01-01", "2026-11-10", "2026-02-30", "20261110", "null",
         "\x00", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "../../etc/passwd",
         "é" * 64, "签名", "\U0001f600", "A00000001", AGENT, "18900001111", "100", "100.5",
         "0.05", "mobile", "landline", "tx", "mgmt", "clerk", "supervisor", "1", TX, MGMT,
         "counter-pass-1", "en", "zh", "code", "pay", "T1", "x" * 250)
PLAUSIBLE = {
    "who": (AGENT, "A00000001", "clerk"), "password": (MGMT, "counter-pass-1", "000000"),
    "mode": ("code", "password"), "msisdn": (AGENT, "18900001111"), "code": ("123456",),
    "kind": ("mobile", "phs", "landline", "broadband"), "target": ("18900001111", "02012345678"),
    "again": ("18900001111", "02012345678"), "amount": ("100", "800", "50", "1²0"),
    "amount_fen": ("10000", "5000", "1²0"), "key": ("k1", "k2", "k²"),
    "notice": ("", "18900001111"), "tx_password": (TX, "000000"), "purpose": ("tx", "mgmt"),
    "old": (TX, MGMT), "new": ("222333",), "new_msisdn": ("18900002222",),
    "mgmt_password": (MGMT,), "name": ("amy", "老王"), "role": ("clerk", "hotline"),
    "rate": ("0.05", "0.0²"), "suspended": ("1", "0"), "active": ("1", "0"),
    "tx_again": (TX,), "mgmt_again": (MGMT,), "decision": ("pay", "cancel"),
    "merchant": ("smsmenu",), "order": ("T1",), "status": ("paid",), "txn": ("B1",),
    "sign": ("0" * 64, "é" * 64), "notify_url": ("http://127.0.0.1:9/x",), "return_url": ("/web/",),
}
"""A value per form field that gets past the first checks, so the handlers' depths are reached."""
values = st.one_of(st.sampled_from(NASTY), st.integers(-10**20, 10**20).map(str),
                   st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
segments = st.one_of(st.sampled_from(("1", "2", "3", "0", "²", "1²", "١", "-1", "9" * 30,
                                      "A00000001", "T1", "app.css", "..", "%2e%2e", "x" * 300)),
                     st.integers(0, 10**15).map(str),
                     st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30))
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


origins = st.one_of(st.sampled_from(("null", "same", "https://evil.example", "http://[", "",
                                     "file://", "http://127.0.0.1")), ascii_text)
content_types = st.one_of(st.sampled_from((
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=bogus",
    "application/x-www-form-urlencoded; charset=utf-16", "multipart/form-data",
    "multipart/form-data; boundary=abc", "text/plain", "application/json", "")), ascii_text)
hosts = st.sampled_from(("evil.example", "[", "127.0.0.1:1", "localhost", "a b", ""))
langs = st.one_of(st.sampled_from(("zh", "en", "xx", "")), st.from_regex(r"[a-z0-9]{0,12}",
                                                                          fullmatch=True))
forms = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), ascii_text), values, max_size=8),
    st.fixed_dictionaries({k: st.one_of(st.sampled_from(v), values) for k, v in PLAUSIBLE.items()}),
    st.fixed_dictionaries({k: st.sampled_from(v) for k, v in PLAUSIBLE.items()}))


@dataclass
class Spec:
    """One request: who sends it and everything it carries."""

    who: str = "anonymous"
    csrf: str = "valid"
    segments: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    origin: str | None = None
    content_type: str | None = None
    host: str | None = None
    lang: str = ""


TWISTS = (None, None, None, "csrf", "origin", "segments", "extra", "content_type", "host", "all")
"""What one request gets wrong besides its values: nothing (so the handlers' depths are reached),
one thing, or everything at once."""


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    """A request by anyone, with plausible or hostile values, and maybe something else wrong."""
    twist = draw(st.sampled_from(TWISTS))

    def odd(name: str, strategy: st.SearchStrategy[Any], usual: Any) -> Any:
        return draw(strategy) if twist in (name, "all") else usual

    plausible = {"id": draw(st.sampled_from(("1", "2", "3"))), "order": "T1",
                 "filename": "app.css"}
    return Spec(
        who=draw(st.sampled_from(ROLES)),
        csrf=odd("csrf", st.sampled_from(("missing", "forged")), "valid"),
        segments=odd("segments", st.fixed_dictionaries(
            {"id": segments, "order": segments, "filename": segments}), plausible),
        extra=odd("extra", st.lists(segments, min_size=1, max_size=2), []),
        query=draw(st.dictionaries(st.one_of(st.sampled_from(QUERY_KEYS), ascii_text), values,
                                   max_size=4)),
        form=draw(forms), origin=odd("origin", origins, None),
        content_type=odd("content_type", content_types, None), host=odd("host", hosts, None),
        lang=draw(langs))


INPUT_CLASSES = [
    Spec(who="agent", segments={"id": "²", "order": "²", "filename": "²"},
         query={"page": "²"}, form={"amount": "1²0", "amount_fen": "1²0", "key": "k²"}),
    Spec(who="supervisor", segments={"id": "١", "order": "T1", "filename": "app.css"},
         query={"page": "١"}, form={"amount": "1²0", "rate": "0.0²"}),
    Spec(who="agent", origin="null", form={"kind": "mobile", "target": "18900001111",
                                           "again": "18900001111", "amount": "100"}),
    Spec(who="supervisor", origin="null", form={"amount": "800", "role": "clerk"}),
    Spec(form={"merchant": "smsmenu", "order": "T1", "amount_fen": "100", "status": "paid",
               "txn": "B1", "notify_url": "x", "return_url": "y", "sign": "é" * 64},
         query={"merchant": "smsmenu", "order": "T1", "amount_fen": "100", "notify_url": "x",
                "return_url": "y", "sign": "é" * 64}),
    Spec(who="agent", content_type="multipart/form-data; boundary=abc", form={"csrf": "x"}),
    Spec(who="supervisor", content_type="multipart/form-data"),
    Spec(who="agent", content_type="application/x-www-form-urlencoded; charset=bogus",
         form={"a": "b"}),
    Spec(who="agent", content_type="x;0*", form={"a": "b"}),
    Spec(who="agent", query={"from": "9999-12-31", "to": "9999-12-31"}),
    Spec(who="agent", query={"to": "0001-01-01"}),
    Spec(who="supervisor", query={"date": "9999-12-31", "page": "9999999"}),
]


def with_input_classes(**more: Any) -> Any:
    """The review's input classes as explicit examples (they run first, on every route)."""
    def decorate(test: Any) -> Any:
        for spec in reversed(INPUT_CLASSES):
            test = example(spec=spec, **more)(test)
        return test
    return decorate


def _session(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, kind: str,
             subject_id: int) -> str:
    return sessions.start(conn, now, kind, subject_id, dt.timedelta(hours=8))


@dataclass
class Fuzzer:
    """Sends a Spec to one route and checks the answer."""

    client: TestClient[Any, Any]
    ledger: Ledger
    web: Web
    origin: str

    async def cookies(self, who: str) -> tuple[str, str]:
        """The Cookie header for ``who`` (a fresh session) and the CSRF basis it gives."""
        if who == "anonymous":
            return "smsmenu_pre=fuzz-visitor", "fuzz-visitor"
        kind, subject = ("agent", 1) if who == "agent" else ("operator", OPERATOR_IDS[who])
        token = await self.ledger.op(_session, kind=kind, subject_id=subject)
        return f"smsmenu_sid={token}", token

    def url(self, template: str, segments: dict[str, str], extra: list[str],
            query: dict[str, str]) -> str:
        path = re.sub(r"\{(\w+)\}", lambda m: quote(segments.get(m.group(1), "1"), safe=""),
                      template)
        if extra:
            path = path.rstrip("/") + "/" + "/".join(quote(s, safe="") for s in extra)
        return f"{path}?{urlencode(query)}" if query else path

    async def send(self, method: str, template: str, spec: Spec) -> None:
        cookie, basis = await self.cookies(spec.who)
        if re.fullmatch(r"[a-z0-9]{0,12}", spec.lang):
            cookie += f"; smsmenu_lang={spec.lang}"
        headers = {"Cookie": cookie}
        if spec.origin is not None:
            headers["Origin"] = self.origin if spec.origin == "same" else spec.origin
        if spec.host is not None:
            headers["Host"] = spec.host
        form, query = dict(spec.form), dict(spec.query)
        if spec.csrf == "valid":
            form["csrf"] = hmac.new(self.web.key, f"csrf|{basis}".encode(),
                                    hashlib.sha256).hexdigest()
        elif spec.csrf == "forged":
            form["csrf"] = "0" * 64
        if spec.csrf == "valid" and (method, template) in SIGNED:  # past the signature check
            wanted = SIGNED[method, template]
            given = form if method == "POST" else query
            signed = {k: given.get(k, "") for k in wanted}
            signed["sign"] = sign(self.web.bank_key, signed)
            form, query = (signed, query) if method == "POST" else (form, signed)
        kw: dict[str, Any] = {}
        if method == "POST":
            if spec.content_type is None:
                kw["data"] = form
            else:
                headers["Content-Type"] = spec.content_type
                kw["data"] = urlencode(form).encode()
        url = self.url(template, spec.segments, spec.extra, query)
        async with self.client.request(method, url, headers=headers,
                                       allow_redirects=False, **kw) as response:
            body = await response.read()
            status, answer = response.status, response.headers
        event(f"{status} as {spec.who}")  # --hypothesis-show-statistics: what was reached
        where = f"{method} {url} as {spec.who}"
        assert status < 500, f"{where}: {status} {body[:300]!r}"
        for name in HEADERS:
            assert name in answer, f"{where}: {status} without {name}"
        assert b"Traceback" not in body and b'File "' not in body, where


@pytest.fixture
async def fuzzer(server: TestServer, ledger: Ledger, web_state: Web, agent: dict[str, object],
                 operators: dict[str, str]) -> AsyncIterator[Fuzzer]:
    """A cookie-less client (each request brings its own cookies) on the web listener, the
    agent and the three operators in place."""
    await ledger.deposit(key="fuzz-funds", msisdn=AGENT, amount_fen=10_000_000,
                         channel="counter")
    # recharge 1: receipts, retry and reversal pages
    await ledger.recharge(RechargeRequest(
            key="fuzz-recharge", msisdn=AGENT, kind=TargetKind.MOBILE, target="18900001111",
            amount_fen=10_000, tx_password=TX, channel="web"))
    async with TestClient(server, cookie_jar=aiohttp.DummyCookieJar()) as client:
        yield Fuzzer(client, ledger, web_state, str(client.make_url("")).rstrip("/"))


@pytest.mark.parametrize(("method", "template"),
                         [pytest.param(m, p, id=f"{m} {p}") for m, p in ROUTES])
@FUZZ
@with_input_classes()
@given(spec=specs())
async def test_route(fuzzer: Fuzzer, method: str, template: str, spec: Spec) -> None:
    """Any request to this route: no 500, no traceback, the security headers."""
    await fuzzer.send(method, template, spec)


@FUZZ
@with_input_classes(method="POST", prefix="/web/")
@given(spec=specs(), method=st.sampled_from(("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")),
       prefix=st.sampled_from(("/", "/web/", "/web/ops/", "/web/static/", "/bank/", "/web/..")))
async def test_any_path(fuzzer: Fuzzer, spec: Spec, method: str, prefix: str) -> None:
    """Any method on any path under the listener: 404, 405 and redirects carry the headers."""
    await fuzzer.send(method, prefix + "{id}", spec)
