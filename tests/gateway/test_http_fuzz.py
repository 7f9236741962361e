"""Fuzzing the transports' listener over a real socket: no request, however malformed, gets a 500.

One server (its own thread and event loop) serves every example; each route gets 200 examples
(``HYPOTHESIS_PROFILE=chaos``: the chaos profile's count, when it is registered). A 4xx must say
why, in its body.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import load_settings
from smsmenu.server.main import running

AGENT, TX = "18912345678", "123456"
API, USSD, KANNEL, METRICS = ("fuzz-api-token-0123456789", "fuzz-ussd-token-0123456789",
                              "fuzz-kannel-token-0123456789", "fuzz-metrics-token-012345")


def examples() -> int:
    """200, or the chaos profile's count under ``HYPOTHESIS_PROFILE=chaos`` (if registered)."""
    if os.environ.get("HYPOTHESIS_PROFILE") == "chaos":
        try:
            return int(hypothesis_settings.get_profile("chaos").max_examples)
        except InvalidArgument:
            pass
    return 200


FUZZ = hypothesis_settings(max_examples=examples(), deadline=None,
                           suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Target:
    """The server under fuzz: where it listens; ``request`` sends one raw request."""

    host: str
    port: int

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The whole server, every transport on (tokens), an agent with 500 yuan, in a thread."""
    tmp = tmp_path_factory.mktemp("fuzz")
    settings = (load_settings(env={})
                .replace("ledger", db=str(tmp / "fuzz.db"), secret_file=str(tmp / "secret"),
                         synchronous="OFF")
                .replace("http", port=0).replace("web", port=0)
                .replace("billing", url="http://127.0.0.1:0")
                .replace("api", token=(API,)).replace("ussd", token=(USSD,))
                .replace("metrics", token=(METRICS,))
                .replace("kannel", sendsms_url="http://127.0.0.1:9/cgi-bin/sendsms",
                         token=(KANNEL,)))
    started: list[str] = []
    ready, stop = threading.Event(), threading.Event()
    failed: list[BaseException] = []

    async def serve() -> None:
        clock = ManualClock("2026-11-10T10:00:00")
        async with running(settings, clock=clock, billing=BillingSimulator(clock=clock),
                           dispatch_interval=3600) as run:
            await run.ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX,
                                        mgmt_password="654321")
            await run.ledger.deposit(key="seed", msisdn=AGENT, amount_fen=50_000,
                                     channel="counter")
            started.append(run.http_url)
            ready.set()
            await asyncio.to_thread(stop.wait)

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported by the fixture
            failed.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=main, name="fuzz-server", daemon=True)
    thread.start()
    ready.wait(60)
    if failed or not started:
        raise RuntimeError(f"the server did not start: {failed}")
    host, port = started[0].removeprefix("http://").rsplit(":", 1)
    yield Target(host, int(port))
    stop.set()
    thread.join(60)
    assert not failed, failed


def check(status: int, body: bytes, what: str) -> None:
    """Never a 5xx; a 4xx says why (a JSON error or a text line)."""
    assert status < 500, f"{what}: {status} {body[:300]!r}"
    if status >= 400 and status not in (404, 405):
        assert body.strip(), f"{what}: {status} without a reason"


TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["1", "00", "0", "#", "CZ*2*18900001111*100*123456", "YE*123456",
                     "CF*1*123456", "CZ*2*1890000111²*100*123456", "CZ*２*18900001111*１００*1",
                     "\ud800", "\x00", "٣", "²", "1" * 1001, "*" * 50]),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8)
NUMBERS = st.one_of(st.sampled_from([AGENT, "+86" + AGENT, "18900009999", "1891234567²",
                                     "١٨٩١٢٣٤٥٦٧٨", "", "+", "8" * 30]), st.text(max_size=15))


def sms_bodies() -> st.SearchStrategy[bytes]:
    fields = st.fixed_dictionaries({}, optional={"from": NUMBERS | JSON_VALUES, "text": TEXTS |
                                                 JSON_VALUES, "id": TEXTS | JSON_VALUES})
    dumped = fields.map(lambda d: json.dumps(d, ensure_ascii=True).encode())
    nested = st.integers(1, 40_000).map(lambda n: b'{"from": "%s", "text": ' % AGENT.encode()
                                        + b"[" * n + b"]" * n + b"}")
    return st.one_of(dumped, nested, st.binary(max_size=200),
                     st.just(b'{"from": "18912345678", "text": "1", "id": "\\ud800"}'))


CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8",
                                 "text/plain", "application/x-www-form-urlencoded",
                                 "application/json; charset=zlib_codec", "multipart/form-data",
                                 "6>;D#u_n*", "application/json; charset=", ";", ""])


@FUZZ
@given(body=sms_bodies(), content_type=CONTENT_TYPES, auth=st.sampled_from(["ok", "no", "bad"]))
def test_api_sms(target: Target, body: bytes, content_type: str, auth: str) -> None:
    """POST /api/sms: any body, any content type, with or without the token."""
    headers = {"Content-Type": content_type} if content_type else {}
    if auth != "no":
        headers["Authorization"] = f"Bearer {API if auth == 'ok' else 'x' + API}"
    status, answer = target.request("POST", "/api/sms", body, headers)
    check(status, answer, f"/api/sms {body[:80]!r} {content_type}")
    if auth != "ok":  # refused: unauthenticated (or, before any route, too big, multipart or
        # a Content-Type that cannot be parsed)
        assert status in (401, 413, 415) or (status, content_type) == (400, "6>;D#u_n*"), status


USSD_TEXTS = st.one_of(
    TEXTS, st.lists(st.sampled_from(["1", "2", "0", "00", "18900001111", "50", TX, "²", ""]),
                    max_size=30).map("*".join),
    st.just("*".join(["1"] * 5000)))


@FUZZ
@given(session=st.text(max_size=10) | st.sampled_from(["s1", "s2", "x" * 200]),
       phone=NUMBERS, text=USSD_TEXTS, charset=st.sampled_from(["", "utf-8", "zlib_codec",
                                                               "latin-1", "nope", "rot13"]),
       via=st.sampled_from(["header", "query", "none"]))
def test_ussd(target: Target, session: str, phone: str, text: str, charset: str,
              via: str) -> None:
    """POST /ussd: any form fields, charset and token placement."""
    fields = {"sessionId": session, "serviceCode": "*100#", "phoneNumber": phone, "text": text}
    body = urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()
    kind = "application/x-www-form-urlencoded" + (f"; charset={charset}" if charset else "")
    headers = {"Content-Type": kind}
    path = "/ussd"
    if via == "header":
        headers["Authorization"] = f"Bearer {USSD}"
    elif via == "query":
        path += f"?token={USSD}"
    status, answer = target.request("POST", path, body, headers)
    check(status, answer, f"/ussd {fields!r:.200} {charset}")
    if via == "none":
        assert status == 401


RAW = st.binary(max_size=30).map(lambda b: quote(b, safe=""))


@FUZZ
@given(sender=NUMBERS.map(lambda n: quote(n.encode("utf-8", "surrogatepass"), safe="")) | RAW,
       text=RAW, coding=st.sampled_from(["", "0", "1", "2", "²", "x"]),
       charset=st.sampled_from(["", "UTF-8", "UTF-16BE", "UCS-2", "ISO-8859-1", "zlib_codec",
                                "base64", "rot13", "GSM", "nope", "hex"]),
       ident=st.text(max_size=10).map(lambda t: quote(t.encode("utf-8", "surrogatepass"))) | RAW,
       token=st.sampled_from([KANNEL, "", "x"]))
def test_kannel_mo(target: Target, sender: str, text: str, coding: str, charset: str,
                   ident: str, token: str) -> None:
    """GET /kannel/mo: any sender, text bytes, coding, charset, id and token."""
    path = (f"/kannel/mo?token={token}&from={sender}&to=10658&text={text}&coding="
            f"{quote(coding)}&charset={charset}&id={ident}")
    status, answer = target.request("GET", path)
    check(status, answer, path)
    if token != KANNEL:
        assert status == 401


@FUZZ
@given(ident=RAW | st.text(max_size=200).map(lambda t: quote(t.encode("utf-8", "surrogatepass"))),
       status_value=st.sampled_from(["1", "2", "8", "16", "²", "٣", "", "-1", "9" * 30, "x"]),
       token=st.sampled_from([KANNEL, "", "x"]))
def test_kannel_dlr(target: Target, ident: str, status_value: str, token: str) -> None:
    """GET /kannel/dlr: any id, status (Unicode digits too) and token."""
    path = f"/kannel/dlr?token={token}&id={ident}&status={quote(status_value)}"
    status, answer = target.request("GET", path)
    check(status, answer, path)
    if token != KANNEL:
        assert status == 401


PATHS: dict[str, Callable[[str], str]] = {
    "healthz": lambda q: f"/healthz{q}", "metrics": lambda q: f"/metrics{q}"}


@FUZZ
@given(route=st.sampled_from(sorted(PATHS)), query=RAW.map(lambda q: f"?{q}") | st.just(""),
       method=st.sampled_from(["GET", "HEAD", "POST"]),
       auth=st.sampled_from([f"Bearer {METRICS}", "Bearer x", "Basic Og==", "", "Bearer"]))
def test_healthz_and_metrics(target: Target, route: str, query: str, method: str,
                             auth: str) -> None:
    """GET /healthz is open; /metrics wants its token; no query or header breaks either."""
    headers: dict[str, Any] = {"Authorization": auth} if auth else {}
    status, answer = target.request(method, PATHS[route](query), None, headers)
    check(status, answer if method != "HEAD" else b"(no body)", f"{method} {route}{query}")
    if method == "GET" and route == "metrics":
        assert status == (200 if auth == f"Bearer {METRICS}" else 401)
    elif method == "GET":
        assert status == 200


def test_the_server_is_still_sound(target: Target) -> None:
    """After the fuzzing the agent's dialog still works over /api/sms."""
    body = json.dumps({"from": AGENT, "text": "00", "id": "after-fuzz"}).encode()
    status, answer = target.request("POST", "/api/sms", body, {
        "Authorization": f"Bearer {API}", "Content-Type": "application/json"})
    assert status == 200 and "空中充值" in json.loads(answer)["replies"][0]["text"]
