"""Tests of the in-process simulated BOSS (simulator.billing.BillingSimulator)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.billing import CANCELLED, REUSED, SIMULATED_FAILURE, BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import BillingTimeout, BillingUnavailable
from smsmenu.core.types import Billing, BossCredit, CreditResult, TargetKind

SH = ZoneInfo("Asia/Shanghai")
MOBILE, LANDLINE = TargetKind.MOBILE, TargetKind.LANDLINE
PHONE, LINE = "18912345678", "02787654321"


class FixedClock:
    """A clock standing still at ``at``."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def postpaid_sim(at: dt.datetime | None = None) -> BillingSimulator:
    sim = BillingSimulator(clock=FixedClock(at or dt.datetime(2024, 5, 15, 12, tzinfo=SH)))
    sim.open_account(LANDLINE, LINE, "postpaid", balance_fen=0, bills={"2024-05": 8000})
    return sim


def test_simulator_satisfies_the_billing_protocol() -> None:
    """BillingSimulator can stand wherever a Billing is expected."""
    billing: Billing = BillingSimulator()
    assert callable(billing.credit)


async def test_prepaid_credit_adds_to_balance() -> None:
    """A credit to a prepaid account raises its balance and answers prepaid without a month."""
    sim = BillingSimulator()
    sim.open_account(MOBILE, PHONE, "prepaid", balance_fen=500)
    result = await sim.credit(MOBILE, PHONE, 10_000, "r1")
    assert result == CreditResult(ok=True, reference="r1", account_type="prepaid")
    assert await sim.balance(MOBILE, PHONE) == 10_500


async def test_postpaid_credit_pays_current_month_bill() -> None:
    """A credit to a postpaid account pays this month's bill and raises the balance."""
    sim = postpaid_sim()
    result = await sim.credit(LANDLINE, LINE, 5000, "r1")
    assert result == CreditResult(True, "r1", account_type="postpaid", bill_month="2024-05")
    account = sim.account(LANDLINE, LINE)
    assert account is not None
    assert (account.balance_fen, account.bills["2024-05"].paid_fen) == (5000, 5000)


@pytest.mark.parametrize(("at", "month"), [
    pytest.param(dt.datetime(2024, 5, 31, 23, 59, 59, tzinfo=SH), "2024-05", id="last-second"),
    pytest.param(dt.datetime(2024, 6, 1, 0, 0, tzinfo=SH), "2024-06", id="first-second"),
    pytest.param(dt.datetime(2024, 5, 31, 16, 0, tzinfo=dt.UTC), "2024-06", id="utc-is-shanghai"),
    pytest.param(dt.datetime(2024, 12, 31, 23, 0, tzinfo=SH), "2024-12", id="year-end"),
])
async def test_postpaid_bill_month_follows_shanghai_clock(at: dt.datetime, month: str) -> None:
    """The bill month is the clock's month in Asia/Shanghai; a month without a bill gets one."""
    sim = postpaid_sim(at)
    result = await sim.credit(LANDLINE, LINE, 1000, "r1")
    account = sim.account(LANDLINE, LINE)
    assert result.bill_month == month and account is not None
    assert account.bills[month].paid_fen == 1000


async def test_naive_clock_is_refused() -> None:
    """A clock that returns a naive datetime is a programming error."""
    sim = postpaid_sim(dt.datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="aware"):
        await sim.credit(LANDLINE, LINE, 1000, "r1")


async def test_unknown_number_is_auto_created_as_prepaid() -> None:
    """With auto_create, an unknown number gets a prepaid account at 0 before the credit."""
    sim = BillingSimulator()
    assert (await sim.credit(MOBILE, PHONE, 1000, "r1")).ok
    account = sim.account(MOBILE, PHONE)
    assert account is not None and (account.account_type, account.balance_fen) == ("prepaid", 1000)


async def test_unknown_number_without_auto_create_fails() -> None:
    """Without auto_create, an unknown number is a final 'no such account' failure."""
    sim = BillingSimulator(auto_create=False)
    result = await sim.credit(MOBILE, PHONE, 1000, "r1")
    assert (result.ok, result.reason) == (False, "no such account")
    assert sim.account(MOBILE, PHONE) is None
    assert await sim.status("r1") == result


async def test_balance_of_unknown_number_is_zero_and_creates_nothing() -> None:
    """balance() of an unknown number is 0 and does not open an account."""
    sim = BillingSimulator()
    assert await sim.balance(MOBILE, PHONE) == 0
    assert sim.account(MOBILE, PHONE) is None


@pytest.mark.parametrize("amount", [pytest.param(0, id="zero"), pytest.param(-100, id="negative")])
async def test_non_positive_amount_fails(amount: int) -> None:
    """A credit of zero or less fen is a final failure that changes no balance."""
    sim = BillingSimulator()
    result = await sim.credit(MOBILE, PHONE, amount, "r1")
    assert not result.ok and "positive" in result.reason
    assert await sim.balance(MOBILE, PHONE) == 0


async def test_repeated_reference_credits_once() -> None:
    """The same credit repeated under one reference returns the stored result, credited once."""
    sim = BillingSimulator()
    first = await sim.credit(MOBILE, PHONE, 1000, "r1")
    assert await sim.credit(MOBILE, PHONE, 1000, "r1") == first
    assert await sim.balance(MOBILE, PHONE) == 1000


async def test_concurrent_same_reference_credits_once() -> None:
    """Concurrent credits under one reference (with latency) credit once and agree."""
    sim = BillingSimulator(latency=0.001)
    results = await asyncio.gather(*(sim.credit(MOBILE, PHONE, 1000, "r1") for _ in range(20)))
    assert all(r == results[0] and r.ok for r in results)
    assert await sim.balance(MOBILE, PHONE) == 1000


Call = Callable[[BillingSimulator], Awaitable[CreditResult]]


@pytest.mark.parametrize("call", [
    pytest.param(lambda sim: sim.credit(MOBILE, PHONE, 2000, "r1"), id="other-amount"),
    pytest.param(lambda sim: sim.credit(MOBILE, "18900000000", 1000, "r1"), id="other-number"),
    pytest.param(lambda sim: sim.credit(TargetKind.PHS, PHONE, 1000, "r1"), id="other-kind"),
    pytest.param(lambda sim: sim.reverse("r0", "r1"), id="other-operation"),
])
async def test_reference_reused_for_other_request_fails(call: Call) -> None:
    """A reference reused for a different request fails and leaves the first result in place."""
    sim = BillingSimulator()
    first = await sim.credit(MOBILE, PHONE, 1000, "r1")
    result = await call(sim)
    assert (result.ok, result.reason) == (False, REUSED)
    assert await sim.status("r1") == first
    assert await sim.balance(MOBILE, PHONE) == 1000


async def test_status_of_unknown_reference_is_none() -> None:
    """status() of a reference BOSS never saw is None."""
    assert await BillingSimulator().status("never") is None


async def test_reverse_postpaid_takes_amount_back() -> None:
    """A reversal takes the credit back from the balance and the bill it paid."""
    sim = postpaid_sim()
    sim.open_account(LANDLINE, LINE, "postpaid", balance_fen=300, bills={"2024-05": 8000})
    await sim.credit(LANDLINE, LINE, 5000, "r1")
    result = await sim.reverse("r1", "v1")
    assert result == CreditResult(True, "v1", account_type="postpaid", bill_month="2024-05")
    account = sim.account(LANDLINE, LINE)
    assert account is not None
    assert (account.balance_fen, account.bills["2024-05"].paid_fen) == (300, 0)
    assert await sim.reverse("r1", "v1") == result  # idempotent by reference
    assert await sim.balance(LANDLINE, LINE) == 300


async def test_reverse_prepaid_is_mechanical() -> None:
    """BOSS reverses a prepaid credit too: R-24 is the ledger's check, not BOSS's."""
    sim = BillingSimulator()
    await sim.credit(MOBILE, PHONE, 1000, "r1")
    assert await sim.reverse("r1", "v1") == CreditResult(True, "v1", account_type="prepaid")
    assert await sim.balance(MOBILE, PHONE) == 0


@pytest.mark.parametrize(("setup", "original", "reason"), [
    pytest.param("none", "r9", "unknown original reference", id="unknown-original"),
    pytest.param("failed", "r1", "original credit failed", id="failed-original"),
    pytest.param("reversed", "r1", "original already reversed", id="already-reversed"),
    pytest.param("spent", "r1", "balance does not cover the amount", id="balance-spent"),
    pytest.param("reversed", "v0", "original is not a credit", id="reverse-a-reversal"),
])
async def test_reverse_refusals(setup: str, original: str, reason: str) -> None:
    """A reversal BOSS cannot do is a final failure naming why, and changes no balance."""
    sim = BillingSimulator()
    sim.open_account(MOBILE, PHONE, balance_fen=700)
    if setup == "failed":
        sim.fail_next()
    await sim.credit(MOBILE, PHONE, 1000, "r1")
    if setup == "reversed":
        assert (await sim.reverse("r1", "v0")).ok
    account = sim.account(MOBILE, PHONE)
    assert account is not None
    if setup == "spent":
        account.balance_fen = 999
    before = account.balance_fen
    result = await sim.reverse(original, "v1")
    assert (result.ok, result.reason) == (False, reason)
    assert account.balance_fen == before
    assert await sim.status("v1") == result


async def test_fail_next_stores_a_final_failure() -> None:
    """fail_next fails the next new call for good; its reference keeps failing, a new one works."""
    sim = BillingSimulator()
    sim.fail_next(1)
    failed = await sim.credit(MOBILE, PHONE, 1000, "r1")
    assert (failed.ok, failed.reason) == (False, SIMULATED_FAILURE)
    assert await sim.credit(MOBILE, PHONE, 1000, "r1") == failed
    assert (await sim.credit(MOBILE, PHONE, 1000, "r2")).ok
    assert await sim.balance(MOBILE, PHONE) == 1000


async def test_failure_rate_one_fails_everything_until_reset() -> None:
    """failure_rate 1 fails every new call; set_failure(0) restores service."""
    sim = BillingSimulator(failure_rate=1.0)
    assert not any([(await sim.credit(MOBILE, PHONE, 1000, f"r{i}")).ok for i in range(5)])
    sim.set_failure(0.0)
    assert (await sim.credit(MOBILE, PHONE, 1000, "ok")).ok


@pytest.mark.parametrize(("applied", "balance"), [
    pytest.param(True, 1000, id="applied"),
    pytest.param(False, 0, id="not-applied"),
])
async def test_timeout_next_may_or_may_not_apply(applied: bool, balance: int) -> None:
    """A timed-out credit raises BillingTimeout; status tells whether it happened."""
    sim = BillingSimulator()
    sim.timeout_next(1, applied=applied)
    with pytest.raises(BillingTimeout):
        await sim.credit(MOBILE, PHONE, 1000, "r1")
    assert await sim.balance(MOBILE, PHONE) == balance
    assert ((await sim.status("r1")) is not None) is applied
    assert (await sim.credit(MOBILE, PHONE, 1000, "r1")).ok  # a retry completes exactly once
    assert await sim.balance(MOBILE, PHONE) == 1000


async def test_timeout_on_known_reference_changes_nothing() -> None:
    """A timeout on a repeated reference raises and leaves the stored result alone."""
    sim = BillingSimulator()
    first = await sim.credit(MOBILE, PHONE, 1000, "r1")
    sim.timeout_next(1, applied=True)
    with pytest.raises(BillingTimeout):
        await sim.credit(MOBILE, PHONE, 1000, "r1")
    assert (await sim.status("r1"), await sim.balance(MOBILE, PHONE)) == (first, 1000)


async def run_with_faults(seed: int) -> list[str]:
    sim = BillingSimulator(seed=seed, failure_rate=0.2, timeout_rate=0.3)
    outcomes = []
    for i in range(60):
        try:
            outcomes.append("ok" if (await sim.credit(MOBILE, PHONE, 10, f"r{i}")).ok else "fail")
        except BillingTimeout:
            outcomes.append("applied" if await sim.status(f"r{i}") else "lost")
    return outcomes


async def test_random_faults_are_reproducible_by_seed() -> None:
    """Same seed, same faults; every kind of outcome occurs at these rates."""
    first = await run_with_faults(7)
    assert first == await run_with_faults(7)
    assert set(first) == {"ok", "fail", "applied", "lost"}


async def test_down_refuses_every_call() -> None:
    """With down set, all four calls raise BillingUnavailable and nothing is applied."""
    sim = BillingSimulator()
    await sim.credit(MOBILE, PHONE, 1000, "r1")
    sim.down = True
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: sim.credit(MOBILE, PHONE, 1000, "r2"), lambda: sim.reverse("r1", "v1"),
        lambda: sim.status("r1"), lambda: sim.balance(MOBILE, PHONE),
    ]
    for call in calls:
        with pytest.raises(BillingUnavailable):
            await call()
    sim.down = False
    assert (await sim.status("r2"), await sim.status("v1")) == (None, None)
    assert await sim.balance(MOBILE, PHONE) == 1000


OPS = st.lists(st.tuples(st.booleans(), st.integers(0, 4), st.integers(0, 4),
                         st.sampled_from([100, 200])), max_size=40)


@settings(max_examples=60, deadline=None)
@given(ops=OPS, seed=st.integers(0, 1000))
def test_balance_is_ok_credits_minus_ok_reversals(
    ops: list[tuple[bool, int, int, int]], seed: int
) -> None:
    """Under random faults and repeats, the balance is what stored results say, never less."""

    async def run() -> None:
        sim = BillingSimulator(seed=seed, failure_rate=0.2, timeout_rate=0.2)
        for is_credit, ref, other, amount in ops:
            try:
                if is_credit:
                    await sim.credit(MOBILE, PHONE, amount, f"r{ref}")
                else:
                    await sim.reverse(f"r{other}", f"v{ref}")
            except BillingTimeout:
                pass
            entries = sim.books.entries
            credited = sum(e.amount_fen for e in entries.values() if e.key and e.result.ok)
            taken = sum(entries[o].amount_fen for o, v in sim.books.reversed_by.items()
                        if entries[v].result.ok)
            assert await sim.balance(MOBILE, PHONE) == credited - taken >= 0

    asyncio.run(run())


@pytest.mark.parametrize("kwargs", [
    pytest.param({"failure_rate": 1.5}, id="failure-rate"),
    pytest.param({"timeout_rate": -0.1}, id="timeout-rate"),
    pytest.param({"timeout_applies": 2}, id="timeout-applies"),
])
def test_rates_must_be_probabilities(kwargs: dict[str, float]) -> None:
    """A rate outside 0..1 is refused at construction."""
    with pytest.raises(ValueError, match="between 0 and 1"):
        BillingSimulator(**kwargs)  # type: ignore[arg-type]


# -- cancel: closing a reference for good -------------------------------------------------------

@pytest.mark.parametrize(("before", "answer"), [
    pytest.param("never", CreditResult(False, "r1", reason=CANCELLED), id="never-seen"),
    pytest.param("failed", CreditResult(False, "r1", reason=SIMULATED_FAILURE), id="failed"),
    pytest.param("applied", CreditResult(True, "r1"), id="applied"),
])
async def test_cancel_answers_the_final_result(before: str, answer: CreditResult) -> None:
    """cancel answers ok for an applied credit, its failure for a failed one, else cancelled."""
    sim = BillingSimulator()
    if before == "failed":
        sim.fail_next()
    if before != "never":
        await sim.credit(MOBILE, PHONE, 1000, "r1")
    assert await sim.cancel("r1") == answer
    assert await sim.cancel("r1") == answer  # idempotent
    assert await sim.status("r1") == answer
    assert await sim.balance(MOBILE, PHONE) == (1000 if answer.ok else 0)


@pytest.mark.parametrize("call", [
    pytest.param(lambda sim: sim.credit(MOBILE, PHONE, 1000, "r1"), id="credit"),
    pytest.param(lambda sim: sim.credit(TargetKind.PHS, "0271234", 5, "r1"), id="other-credit"),
    pytest.param(lambda sim: sim.reverse("r0", "r1"), id="reverse"),
])
async def test_any_call_after_cancel_is_refused(call: Call) -> None:
    """After a cancel of a never-seen reference every later call under it is refused, unapplied."""
    sim = BillingSimulator()
    await sim.credit(MOBILE, PHONE, 700, "r0")
    await sim.cancel("r1")
    assert await call(sim) == CreditResult(False, "r1", reason=CANCELLED)
    assert await call(sim) == CreditResult(False, "r1", reason=CANCELLED)
    assert await sim.balance(MOBILE, PHONE) == 700
    assert await sim.balance(TargetKind.PHS, "0271234") == 0


async def test_credit_after_cancel_of_failed_keeps_the_failure() -> None:
    """A failed reference, cancelled, answers its own failure to a repeated credit; no credit."""
    sim = BillingSimulator()
    sim.fail_next()
    failed = await sim.credit(MOBILE, PHONE, 1000, "r1")
    await sim.cancel("r1")
    assert await sim.credit(MOBILE, PHONE, 1000, "r1") == failed
    assert await sim.balance(MOBILE, PHONE) == 0


async def test_cancel_racing_a_slow_credit_refuses_it() -> None:
    """A credit asleep in latency when the cancel lands wakes to find its reference closed."""
    sim = BillingSimulator(latency=0.2)
    credit = asyncio.create_task(sim.credit(MOBILE, PHONE, 1000, "r1"))
    await asyncio.sleep(0.05)
    sim.latency = 0.0
    assert await sim.cancel("r1") == CreditResult(False, "r1", reason=CANCELLED)
    assert await credit == CreditResult(False, "r1", reason=CANCELLED)
    assert await sim.balance(MOBILE, PHONE) == 0
    assert await sim.status("r1") == CreditResult(False, "r1", reason=CANCELLED)


async def test_cancel_after_a_slow_credit_landed_answers_ok() -> None:
    """A cancel that arrives after the slow credit applied answers ok and cancels nothing."""
    sim = BillingSimulator(latency=0.05)
    credit = asyncio.create_task(sim.credit(MOBILE, PHONE, 1000, "r1"))
    await asyncio.sleep(0.01)
    cancel = asyncio.create_task(sim.cancel("r1"))  # sleeps as long, lands after the credit
    assert (await credit).ok and (await cancel).ok
    assert await sim.balance(MOBILE, PHONE) == 1000


async def test_cancel_follows_down_and_latency_but_not_timeouts() -> None:
    """cancel is refused while down; it ignores queued timeouts, which stay for the next credit."""
    sim = BillingSimulator()
    sim.down = True
    with pytest.raises(BillingUnavailable):
        await sim.cancel("r1")
    sim.down = False
    assert await sim.status("r1") is None  # nothing happened
    sim.timeout_next(1)
    assert (await sim.cancel("r1")).reason == CANCELLED
    with pytest.raises(BillingTimeout):
        await sim.credit(MOBILE, PHONE, 1000, "r2")


async def test_on_change_sees_every_change_and_only_changes() -> None:
    """on_change runs after each change to the books (before the call returns), not on reads."""
    sim = BillingSimulator()
    seen: list[int] = []
    sim.on_change = lambda books: seen.append(len(books.entries))
    sim.open_account(MOBILE, PHONE)
    await sim.credit(MOBILE, PHONE, 1000, "r1")
    await sim.credit(MOBILE, PHONE, 1000, "r1")  # a repeat changes nothing
    await sim.status("r1")
    await sim.cancel("r1")  # applied: nothing cancelled
    await sim.cancel("r2")
    await sim.cancel("r2")
    await sim.credit(MOBILE, PHONE, 1000, "r2")  # recorded as a refused credit
    assert seen == [0, 1, 2, 2]


# -- credits(day): what BOSS received, by business day ------------------------------------------

async def test_credits_by_shanghai_day_across_midnight() -> None:
    """credits(day) lists each credit by the Shanghai day it was received, with every outcome."""
    clock = ManualClock("2024-05-15T23:59:58")
    sim = BillingSimulator(clock=clock)
    await sim.credit(MOBILE, PHONE, 1000, "a1")
    sim.fail_next()
    await sim.credit(MOBILE, PHONE, 2000, "a2")
    await sim.cancel("a2")
    await sim.cancel("c0")  # cancel-only: not a credit
    await sim.reverse("a1", "v1")  # a reversal: not a credit
    clock.advance(seconds=2)  # 2024-05-16 00:00:00 +08:00, still 05-15 in UTC
    await sim.credit(LANDLINE, LINE, 300, "b1")
    await sim.credit(MOBILE, PHONE, 400, "c0")  # refused: cancelled the day before
    day1, day2 = await sim.credits(dt.date(2024, 5, 15)), await sim.credits(dt.date(2024, 5, 16))
    assert day1 == [
        BossCredit("a1", MOBILE, PHONE, 1000, True, "", "2024-05-15T23:59:58+08:00"),
        BossCredit("a2", MOBILE, PHONE, 2000, False, SIMULATED_FAILURE,
                   "2024-05-15T23:59:58+08:00"),
    ]
    assert day2 == [
        BossCredit("b1", LANDLINE, LINE, 300, True, "", "2024-05-16T00:00:00+08:00"),
        BossCredit("c0", MOBILE, PHONE, 400, False, CANCELLED, "2024-05-16T00:00:00+08:00"),
    ]
    assert await sim.credits(dt.date(2024, 5, 17)) == []


async def test_credit_time_is_when_received_not_when_applied() -> None:
    """at is the clock when the credit arrived, before its latency; a repeat keeps the first."""
    clock = ManualClock("2024-05-15T10:00:00")
    sim = BillingSimulator(clock=clock, latency=0.05)
    credit = asyncio.create_task(sim.credit(MOBILE, PHONE, 1000, "r1"))
    await asyncio.sleep(0.01)
    clock.advance(hours=1)
    await credit
    await sim.credit(MOBILE, PHONE, 1000, "r1")
    [listed] = await sim.credits(dt.date(2024, 5, 15))
    assert listed.at == "2024-05-15T10:00:00+08:00"


async def test_credits_and_cancel_refused_while_down() -> None:
    """With down set, credits() and cancel() raise BillingUnavailable like the other calls."""
    sim = BillingSimulator()
    sim.down = True
    with pytest.raises(BillingUnavailable):
        await sim.credits(dt.date(2024, 5, 15))
    with pytest.raises(BillingUnavailable):
        await sim.cancel("r1")


CANCEL_OPS = st.lists(st.tuples(st.sampled_from(["credit", "reverse", "cancel"]),
                                st.integers(0, 4)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(ops=CANCEL_OPS, seed=st.integers(0, 1000))
def test_a_cancelled_reference_never_turns_ok(ops: list[tuple[str, int]], seed: int) -> None:
    """Under random faults, once cancel answers not-ok that reference stays not-ok, unapplied."""

    async def run() -> None:
        sim = BillingSimulator(seed=seed, failure_rate=0.2, timeout_rate=0.2)
        closed: set[str] = set()
        for op, ref in ops:
            try:
                if op == "credit":
                    await sim.credit(MOBILE, PHONE, 100, f"r{ref}")
                elif op == "reverse":
                    await sim.reverse(f"r{ref}", f"v{ref}")
                elif not (await sim.cancel(f"r{ref}")).ok:
                    closed.add(f"r{ref}")
            except BillingTimeout:
                pass
            for reference in closed:
                result = await sim.status(reference)
                assert result is not None and not result.ok
            assert not closed & set(sim.books.credits_of((MOBILE, PHONE)))

    asyncio.run(run())
