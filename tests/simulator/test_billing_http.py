"""Tests of HttpBilling against the simulated BOSS served by billing_app on a real socket."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from simulator.billing import CANCELLED, REUSED, SIMULATED_FAILURE, BillingSimulator
from simulator.billing_http import billing_app
from smsmenu.core.errors import BillingTimeout, BillingUnavailable
from smsmenu.core.types import Billing, BossCredit, CreditResult, TargetKind
from smsmenu.server.billing import HttpBilling

SH = ZoneInfo("Asia/Shanghai")
MOBILE, LANDLINE = TargetKind.MOBILE, TargetKind.LANDLINE
PHONE, LINE = "18912345678", "02787654321"


class FixedClock:
    """A clock standing still in the middle of May 2024."""

    def now(self) -> dt.datetime:
        return dt.datetime(2024, 5, 15, 12, tzinfo=SH)


@dataclass
class Boss:
    """A served simulator, its URL and a client of it."""

    sim: BillingSimulator
    url: str
    client: HttpBilling

    async def post(self, path: str, body: object) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url + path, json=body) as response:
                return response.status, await response.json()


@pytest.fixture
async def boss() -> AsyncIterator[Boss]:
    sim = BillingSimulator(clock=FixedClock())
    runner = web.AppRunner(billing_app(sim), shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    client = HttpBilling(f"http://{host}:{port}", timeout=2.0)
    try:
        yield Boss(sim, f"http://{host}:{port}", client)
    finally:
        await client.aclose()
        await runner.cleanup()


def test_http_billing_satisfies_the_billing_protocol() -> None:
    """HttpBilling can stand wherever a Billing is expected."""
    billing: Billing = HttpBilling("http://127.0.0.1:1")
    assert callable(billing.credit)


async def test_prepaid_credit_and_balance(boss: Boss) -> None:
    """A prepaid credit over HTTP answers prepaid and shows in the balance."""
    result = await boss.client.credit(MOBILE, PHONE, 10_000, "r1")
    assert result == CreditResult(ok=True, reference="r1", account_type="prepaid")
    assert await boss.client.balance(MOBILE, PHONE) == 10_000


async def test_postpaid_credit_and_reverse(boss: Boss) -> None:
    """A postpaid credit answers its bill month; its reversal takes the amount back."""
    boss.sim.open_account(LANDLINE, LINE, "postpaid", bills={"2024-05": 8000})
    paid = await boss.client.credit(LANDLINE, LINE, 5000, "r1")
    assert paid == CreditResult(True, "r1", account_type="postpaid", bill_month="2024-05")
    reversed_ = await boss.client.reverse("r1", "v1")
    assert reversed_ == CreditResult(True, "v1", account_type="postpaid", bill_month="2024-05")
    assert await boss.client.reverse("r1", "v1") == reversed_
    assert await boss.client.balance(LANDLINE, LINE) == 0


async def test_idempotency_and_reuse(boss: Boss) -> None:
    """A repeated reference credits once; reused for another amount it fails."""
    first = await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    assert await boss.client.credit(MOBILE, PHONE, 1000, "r1") == first
    reused = await boss.client.credit(MOBILE, PHONE, 2000, "r1")
    assert (reused.ok, reused.reason) == (False, REUSED)
    assert await boss.client.balance(MOBILE, PHONE) == 1000


@pytest.mark.parametrize("reference", [
    pytest.param("plain-123", id="plain"),
    pytest.param("a/b c?d#e%f", id="url-specials"),
    pytest.param("充值-1", id="non-ascii"),
])
async def test_status_round_trips_any_reference(boss: Boss, reference: str) -> None:
    """status() finds a stored result by any reference, and None for an unknown one."""
    assert await boss.client.status(reference) is None
    result = await boss.client.credit(MOBILE, PHONE, 1000, reference)
    assert await boss.client.status(reference) == result
    assert result.reference == reference


async def test_reverse_refusal_names_reason(boss: Boss) -> None:
    """A reversal BOSS cannot do comes back as a final failure with its reason."""
    await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    account = boss.sim.account(MOBILE, PHONE)
    assert account is not None
    account.balance_fen = 10
    result = await boss.client.reverse("r1", "v1")
    assert (result.ok, result.reason) == (False, "balance does not cover the amount")


async def test_faults_endpoint_fail_next(boss: Boss) -> None:
    """POST /faults with fail_next makes the next credit a final simulated failure."""
    status, dials = await boss.post("/faults", {"fail_next": 1, "failure_rate": 0})
    assert status == 200 and dials["failure_rate"] == 0.0
    result = await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    assert (result.ok, result.reason) == (False, SIMULATED_FAILURE)


@pytest.mark.parametrize(("applied", "balance"), [
    pytest.param(True, 1000, id="applied"),
    pytest.param(False, 0, id="not-applied"),
])
async def test_simulated_timeout_maps_to_billing_timeout(
    boss: Boss, applied: bool, balance: int
) -> None:
    """A simulated timeout (504) raises BillingTimeout; status tells whether it happened."""
    await boss.post("/faults", {"timeout_next": {"n": 1, "applied": applied}})
    with pytest.raises(BillingTimeout):
        await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    assert ((await boss.client.status("r1")) is not None) is applied
    assert await boss.client.balance(MOBILE, PHONE) == balance


async def test_slow_boss_maps_to_billing_timeout_and_may_still_apply(boss: Boss) -> None:
    """A call slower than the client's timeout raises BillingTimeout; BOSS may apply it later."""
    boss.sim.latency = 0.3
    slow = HttpBilling(boss.url, timeout=0.05)
    try:
        with pytest.raises(BillingTimeout):
            await slow.credit(MOBILE, PHONE, 1000, "r1")
    finally:
        await slow.aclose()
    boss.sim.latency = 0.0
    for _ in range(100):
        if await boss.client.status("r1") is not None:
            break
        await asyncio.sleep(0.02)
    assert await boss.client.balance(MOBILE, PHONE) == 1000


async def test_down_maps_to_billing_unavailable(boss: Boss) -> None:
    """A BOSS that is down (503) raises BillingUnavailable for credits and reads."""
    await boss.post("/faults", {"down": True})
    with pytest.raises(BillingUnavailable):
        await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    with pytest.raises(BillingUnavailable):
        await boss.client.status("r1")
    boss.sim.down = False
    assert await boss.client.status("r1") is None


async def test_nothing_listening_maps_to_billing_unavailable() -> None:
    """With nothing listening on the port, every call raises BillingUnavailable."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        async with HttpBilling(f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=2) as client:
            with pytest.raises(BillingUnavailable):
                await client.credit(MOBILE, PHONE, 1000, "r1")
            with pytest.raises(BillingUnavailable):
                await client.balance(MOBILE, PHONE)


async def test_session_reopens_after_aclose(boss: Boss) -> None:
    """After aclose() the client opens a fresh session on the next call."""
    await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    await boss.client.aclose()
    assert await boss.client.balance(MOBILE, PHONE) == 1000


async def test_tester_account_endpoints(boss: Boss) -> None:
    """POST /accounts opens an account and GET /accounts shows it with its bills."""
    status, account = await boss.post("/accounts", {
        "kind": "landline", "number": LINE, "account_type": "postpaid", "balance_fen": 300,
        "bills": {"2024-05": 8000}})
    assert status == 201
    await boss.client.credit(LANDLINE, LINE, 5000, "r1")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{boss.url}/accounts/landline/{LINE}") as response:
            assert response.status == 200
            shown = await response.json()
        async with session.get(f"{boss.url}/accounts/mobile/{PHONE}") as response:
            assert response.status == 404
    assert account["bills"] == {"2024-05": {"due_fen": 8000, "paid_fen": 0}}
    assert shown["balance_fen"] == 5300
    assert shown["bills"] == {"2024-05": {"due_fen": 8000, "paid_fen": 5000}}


@pytest.mark.parametrize(("path", "body"), [
    pytest.param("/credit", {"kind": "mobile", "number": PHONE, "reference": "r"}, id="no-amount"),
    pytest.param("/credit", {"kind": "fax", "number": PHONE, "amount_fen": 1, "reference": "r"},
                 id="bad-kind"),
    pytest.param("/credit", {"kind": "mobile", "number": PHONE, "amount_fen": 1.5,
                             "reference": "r"}, id="float-amount"),
    pytest.param("/credit", [1, 2], id="not-an-object"),
    pytest.param("/accounts", {"kind": "mobile", "number": PHONE, "account_type": "gold"},
                 id="bad-account-type"),
    pytest.param("/faults", {"failure_rate": 2}, id="bad-rate"),
])
async def test_malformed_requests_answer_400(boss: Boss, path: str, body: object) -> None:
    """A malformed request answers 400 with an error and changes nothing."""
    status, answer = await boss.post(path, body)
    assert status == 400 and answer["error"]
    assert boss.sim.account(MOBILE, PHONE) is None and boss.sim.failure_rate == 0.0


# -- cancel, credits and the account views -----------------------------------------------------

async def test_cancel_over_http_closes_the_reference(boss: Boss) -> None:
    """POST /cancel of a never-seen reference answers cancelled; later credits are refused."""
    cancelled = CreditResult(False, "r1", reason=CANCELLED)
    assert await boss.client.cancel("r1") == cancelled
    assert await boss.client.cancel("r1") == cancelled
    assert await boss.client.credit(MOBILE, PHONE, 1000, "r1") == cancelled
    assert await boss.client.status("r1") == cancelled
    assert await boss.client.balance(MOBILE, PHONE) == 0


async def test_cancel_of_applied_credit_answers_ok(boss: Boss) -> None:
    """POST /cancel of an applied credit answers its ok result and leaves it applied."""
    paid = await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    assert await boss.client.cancel("r1") == paid
    assert await boss.client.balance(MOBILE, PHONE) == 1000


async def test_slow_cancel_times_out_at_the_client_and_still_lands(boss: Boss) -> None:
    """A cancel slower than the client's timeout raises BillingTimeout; BOSS still closes it."""
    await boss.post("/faults", {"latency": 0.3})
    slow = HttpBilling(boss.url, timeout=0.05)
    try:
        with pytest.raises(BillingTimeout):
            await slow.cancel("r1")
    finally:
        await slow.aclose()
    await boss.post("/faults", {"latency": 0})
    for _ in range(100):
        if await boss.client.status("r1") is not None:
            break
        await asyncio.sleep(0.02)
    assert await boss.client.credit(MOBILE, PHONE, 1000, "r1") == CreditResult(
        False, "r1", reason=CANCELLED)


async def test_credits_of_a_day_over_http(boss: Boss) -> None:
    """GET /credits lists the day's credits (applied, refused, cancelled) through HttpBilling."""
    await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    await boss.post("/faults", {"fail_next": 1})
    await boss.client.credit(MOBILE, PHONE, 2000, "r2")
    await boss.client.cancel("r3")
    await boss.client.credit(LANDLINE, LINE, 300, "r3")
    at = "2024-05-15T12:00:00+08:00"
    assert await boss.client.credits(dt.date(2024, 5, 15)) == [
        BossCredit("r1", MOBILE, PHONE, 1000, True, "", at),
        BossCredit("r2", MOBILE, PHONE, 2000, False, SIMULATED_FAILURE, at),
        BossCredit("r3", LANDLINE, LINE, 300, False, CANCELLED, at),
    ]
    assert await boss.client.credits(dt.date(2024, 5, 14)) == []


@pytest.mark.parametrize("date", [
    pytest.param("", id="missing"),
    pytest.param("2024-13-01", id="no-such-month"),
    pytest.param("20240515", id="basic-format"),
    pytest.param("2024-05-15T00:00", id="a-time"),
])
async def test_credits_with_bad_date_answer_400(boss: Boss, date: str) -> None:
    """GET /credits with anything but a YYYY-MM-DD date answers 400 with an error."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{boss.url}/credits", params={"date": date}) as response:
            assert response.status == 400 and (await response.json())["error"]


async def test_accounts_of_a_number_with_their_credits(boss: Boss) -> None:
    """GET /accounts/{number} shows every kind holding the number with its applied credits."""
    boss.sim.open_account(TargetKind.PHS, PHONE, balance_fen=5)
    await boss.client.credit(MOBILE, PHONE, 1000, "r1")
    await boss.client.credit(MOBILE, PHONE, 200, "r2")
    await boss.client.reverse("r2", "v2")
    await boss.client.credit(TargetKind.PHS, PHONE, 300, "p1")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{boss.url}/accounts/{PHONE}") as response:
            assert response.status == 200
            shown = await response.json()
        async with session.get(f"{boss.url}/accounts/mobile/{PHONE}") as response:
            one = await response.json()
        async with session.get(f"{boss.url}/accounts/18900000000") as response:
            assert response.status == 404 and (await response.json())["error"]
    assert shown["number"] == PHONE
    assert {a["kind"]: (a["balance_fen"], a["credits"]) for a in shown["accounts"]} == {
        "mobile": (1000, {"r1": 1000}), "phs": (305, {"p1": 300})}
    assert one["credits"] == {"r1": 1000}


class Script:
    """A fake BOSS answering every request with one fixed status and body."""

    def __init__(self, status: int, body: str) -> None:
        self.status, self.body = status, body

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(status=self.status, text=self.body, content_type="application/json")


@pytest.fixture
async def fake() -> AsyncIterator[tuple[Script, HttpBilling]]:
    script = Script(200, "{}")
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    client = HttpBilling(f"http://127.0.0.1:{runner.addresses[0][1]}", timeout=2.0)
    try:
        yield script, client
    finally:
        await client.aclose()
        await runner.cleanup()


GOOD_CREDIT = ('{"reference": "r1", "kind": "mobile", "number": "1", "amount_fen": 5, '
               '"ok": true, "reason": "", "at": "2024-05-15T12:00:00+08:00"}')
BAD_ANSWERS = [
    pytest.param(200, "not json", id="not-json"),
    pytest.param(200, "[]", id="not-an-object"),
    pytest.param(200, '{"ok": "yes", "reference": "r1"}', id="wrong-types"),
    pytest.param(200, '{"date": "2024-05-14", "credits": []}', id="other-day"),
    pytest.param(200, '{"date": "2024-05-15", "credits": {}}', id="credits-not-a-list"),
    pytest.param(200, '{"date": "2024-05-15", "credits": [' + GOOD_CREDIT.replace(
        "+08:00", "") + "]}", id="naive-time"),
    pytest.param(200, '{"date": "2024-05-15", "credits": [' + GOOD_CREDIT.replace(
        '"amount_fen": 5', '"amount_fen": 5.0') + "]}", id="float-amount"),
    pytest.param(200, '{"date": "2024-05-15", "credits": [' + GOOD_CREDIT.replace(
        "mobile", "fax") + "]}", id="bad-kind"),
    pytest.param(500, '{"error": "boom"}', id="500"),
]


@pytest.mark.parametrize(("status", "body"), BAD_ANSWERS)
async def test_bad_answer_to_cancel_is_unknown_outcome(
    fake: tuple[Script, HttpBilling], status: int, body: str
) -> None:
    """cancel is a write: an unreadable answer or a 5xx raises BillingTimeout (maybe applied)."""
    script, client = fake
    script.status, script.body = status, body
    with pytest.raises(BillingTimeout):
        await client.cancel("r1")


@pytest.mark.parametrize(("status", "body"), BAD_ANSWERS)
async def test_bad_answer_to_credits_is_unavailable(
    fake: tuple[Script, HttpBilling], status: int, body: str
) -> None:
    """credits is a read: an unreadable answer or a 5xx raises BillingUnavailable."""
    script, client = fake
    script.status, script.body = status, body
    with pytest.raises(BillingUnavailable):
        await client.credits(dt.date(2024, 5, 15))


@pytest.mark.parametrize(("status", "error"), [
    pytest.param(503, BillingUnavailable, id="503"),
    pytest.param(400, BillingUnavailable, id="400"),
    pytest.param(404, BillingUnavailable, id="404"),
    pytest.param(504, BillingTimeout, id="504"),
])
async def test_error_statuses_for_cancel_and_credits(
    fake: tuple[Script, HttpBilling], status: int, error: type[Exception]
) -> None:
    """503 and 4xx mean not done (BillingUnavailable), 504 maybe done, for cancel and credits."""
    script, client = fake
    script.status, script.body = status, '{"error": "x"}'
    with pytest.raises(error):
        await client.cancel("r1")
    with pytest.raises(error):
        await client.credits(dt.date(2024, 5, 15))


async def test_well_formed_credits_answer_parses(fake: tuple[Script, HttpBilling]) -> None:
    """A well-formed GET /credits answer from any BOSS parses into BossCredit values."""
    script, client = fake
    script.body = '{"date": "2024-05-15", "credits": [' + GOOD_CREDIT + "]}"
    assert await client.credits(dt.date(2024, 5, 15)) == [
        BossCredit("r1", MOBILE, "1", 5, True, "", "2024-05-15T12:00:00+08:00")]


async def test_down_refuses_cancel_and_credits(boss: Boss) -> None:
    """A BOSS that is down (503) raises BillingUnavailable for cancel and credits alike."""
    await boss.post("/faults", {"down": True})
    with pytest.raises(BillingUnavailable):
        await boss.client.cancel("r1")
    with pytest.raises(BillingUnavailable):
        await boss.client.credits(dt.date(2024, 5, 15))
    boss.sim.down = False
    assert await boss.client.status("r1") is None
