"""Reversal (返销) of an agent's mistaken recharge: every R-23..R-25 check at its exact boundary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from ledger_support import AGENT, LANDLINE, Sql, available, recharge

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import BillingUnavailable, ReversalRefused
from smsmenu.core.refno import quote
from smsmenu.core.types import TargetKind

pytestmark = [pytest.mark.usefixtures("agent"), pytest.mark.both_engines]

CHECKS = ["not_done", "reversed", "prepaid", "monthly", "late", "invoice", "month_end",
          "other_month", "balance"]
NUMBERS = {TargetKind.LANDLINE: LANDLINE, TargetKind.MOBILE: "18900001111",
           TargetKind.PHS: "02761234567", TargetKind.BROADBAND: "02712345678"}


async def bill_paid(ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
                    key: str = "r1", kind: TargetKind = TargetKind.LANDLINE,
                    account_type: str = "postpaid", amount_fen: int = 10_000) -> dict[str, Any]:
    """A recharge that pays this month's bill of a postpaid customer (R-24)."""
    number = NUMBERS[kind]
    if billing.account(kind, number) is None:
        month = clock.now().strftime("%Y-%m")
        billing.open_account(kind, number, account_type,  # type: ignore[arg-type]
                             bills={month: amount_fen} if account_type == "postpaid" else None)
    done = await recharge(ledger, key, amount_fen, kind=kind, target=number)
    assert done.status == "succeeded"
    return done


async def reverse(ledger: Ledger, recharge_id: int, key: str = "rv-1") -> dict[str, Any]:
    return await ledger.reverse(key=key, recharge_id=recharge_id, operator="10000")


async def refused(ledger: Ledger, recharge_id: int, check: str, rule: str,
                  key: str = "rv-1") -> None:
    before = await available(ledger)
    status = (await ledger.get_recharge(recharge_id)).status
    with pytest.raises(ReversalRefused) as refusal:
        await reverse(ledger, recharge_id, key)
    assert (refusal.value.check, refusal.value.rule) == (check, rule)
    assert refusal.value.code == f"E_REVERSAL_{check.upper()}"
    assert rule in refusal.value.message("zh", rule=True)
    assert rule in refusal.value.message("en", rule=True)
    assert await available(ledger) == before
    assert (await ledger.get_recharge(recharge_id)).status == status


# -- the reversal itself --------------------------------------------------------------------------
async def test_reversal_posts_the_inverse_of_the_recharge(ledger: Ledger, billing: BillingSimulator,
                                                          clock: ManualClock, sql: Sql) -> None:
    """R-23: a reversal takes the amount back from the customer and refunds amount - commission."""
    before = dict(await sql("SELECT code, balance FROM accounts"))
    done = await bill_paid(ledger, billing, clock)
    assert (done.account_type, done.bill_month) == ("postpaid", "2026-11")
    assert await available(ledger) == 50_000 - 9_800
    clock.advance(minutes=10)
    rv = await reverse(ledger, done.recharge_id)
    assert rv.status == "succeeded" and rv.month == "2026-11"
    assert (await ledger.get_recharge(done.recharge_id)).status == "reversed"
    assert await available(ledger) == 50_000
    assert dict(await sql("SELECT code, balance FROM accounts")) == before
    legs = await sql("SELECT a.code, p.amount FROM postings p JOIN accounts a "
                     "ON a.id = p.account_id WHERE p.transfer_id = ? ORDER BY a.code",
                     rv.transfer_id)
    assert legs == [("agent:1", 9_800), ("expense:commission", 200),
                    ("settlement:landline", -10_000)]
    account = billing.account(TargetKind.LANDLINE, LANDLINE)
    assert account is not None and account.balance_fen == 0
    assert account.bills["2026-11"].paid_fen == 0
    [notice] = rv.notices
    assert (notice.to, notice.kind) == (AGENT, "reversal")
    assert quote(done.recharge_id) in notice.text and done.reference not in notice.text


@pytest.mark.parametrize("kind", [pytest.param(k, id=k.value) for k in TargetKind])
async def test_reversal_allowed_for_each_postpaid_kind(ledger: Ledger, billing: BillingSimulator,
                                                       clock: ManualClock,
                                                       kind: TargetKind) -> None:
    """R-24: postpaid landline, CDMA mobile, PHS and broadband accounts may be reversed."""
    done = await bill_paid(ledger, billing, clock, kind=kind)
    assert (await reverse(ledger, done.recharge_id)).status == "succeeded"


@pytest.mark.parametrize("kind", [pytest.param(k, id=k.value) for k in TargetKind])
async def test_reversal_refused_for_prepaid_accounts(ledger: Ledger, billing: BillingSimulator,
                                                     clock: ManualClock, kind: TargetKind) -> None:
    """R-24: a prepaid top-up is never reversed."""
    done = await bill_paid(ledger, billing, clock, kind=kind, account_type="prepaid")
    assert done.account_type == "prepaid"
    await refused(ledger, done.recharge_id, "prepaid", "R-24")


# -- 30 minutes (R-25) ----------------------------------------------------------------------------
async def test_reversal_allowed_at_exactly_30_minutes(ledger: Ledger, billing: BillingSimulator,
                                                      clock: ManualClock) -> None:
    """R-25: a reversal reported exactly 30 minutes after the recharge is still in time."""
    done = await bill_paid(ledger, billing, clock)
    clock.advance(minutes=30)
    assert (await reverse(ledger, done.recharge_id)).status == "succeeded"


async def test_reversal_refused_at_30_minutes_and_one_second(ledger: Ledger,
                                                             billing: BillingSimulator,
                                                             clock: ManualClock) -> None:
    """R-25: more than 30 minutes after the recharge the reversal is refused."""
    done = await bill_paid(ledger, billing, clock)
    clock.advance(minutes=30, seconds=1)
    await refused(ledger, done.recharge_id, "late", "R-25")


# -- invoice (R-25) -------------------------------------------------------------------------------
async def test_reversal_refused_once_the_customer_took_an_invoice(ledger: Ledger,
                                                                  billing: BillingSimulator,
                                                                  clock: ManualClock) -> None:
    """R-25: the customer already took an invoice for the recharge."""
    done = await bill_paid(ledger, billing, clock)
    marked = await ledger.mark_invoice(done.recharge_id)
    assert marked.invoice_taken == 1
    await refused(ledger, done.recharge_id, "invoice", "R-25")


# -- last day of the month and cross-month (R-25) -------------------------------------------------
@pytest.mark.parametrize("day, allowed", [
    pytest.param("2026-11-29", True, id="29-november-allowed"),
    pytest.param("2026-11-30", False, id="30-november-last-day"),
    pytest.param("2026-12-31", False, id="31-december-last-day"),
    pytest.param("2027-02-27", True, id="27-february-allowed"),
    pytest.param("2027-02-28", False, id="28-february-last-day"),
    pytest.param("2028-02-28", True, id="28-february-leap-year-allowed"),
    pytest.param("2028-02-29", False, id="29-february-leap-year-last-day"),
])
async def test_reversal_refused_on_the_last_day_of_the_month(ledger: Ledger,
                                                             billing: BillingSimulator,
                                                             clock: ManualClock, day: str,
                                                             allowed: bool) -> None:
    """R-25: no reversal on the last day of a month; the day before is fine."""
    clock.set(f"{day}T10:00:00")
    done = await bill_paid(ledger, billing, clock)
    clock.advance(minutes=10)
    if allowed:
        assert (await reverse(ledger, done.recharge_id)).status == "succeeded"
    else:
        await refused(ledger, done.recharge_id, "month_end", "R-25")


async def test_last_day_of_month_is_local_time(ledger: Ledger, billing: BillingSimulator,
                                               clock: ManualClock) -> None:
    """R-25: the business day is Beijing time: 30 Nov 00:10 in Shanghai is the last day already."""
    clock.set("2026-11-29T23:50:00")  # 15:50 UTC on the 29th
    done = await bill_paid(ledger, billing, clock)
    clock.advance(minutes=20)  # 00:10 on the 30th in Shanghai, still the 29th in UTC
    await refused(ledger, done.recharge_id, "month_end", "R-25")


async def test_reversal_refused_when_the_bill_paid_was_of_another_month(
        ledger: Ledger, billing: BillingSimulator, clock: ManualClock) -> None:
    """R-25: a recharge at 23:50 on 30 Nov paid November's bill; on 1 Dec it cannot be reversed."""
    clock.set("2026-11-30T23:50:00")
    done = await bill_paid(ledger, billing, clock)
    assert done.bill_month == "2026-11"
    clock.set("2026-12-01T00:10:00")  # within 30 minutes, not a last day
    checks = dict(await ledger.reversal_checks(done.recharge_id))
    assert checks["late"] and checks["month_end"] and checks["monthly"]
    await refused(ledger, done.recharge_id, "other_month", "R-25")


# -- once a month (R-23) --------------------------------------------------------------------------
async def test_one_reversal_per_agent_per_month(ledger: Ledger, billing: BillingSimulator,
                                                clock: ManualClock) -> None:
    """R-23: a second reversal in the same month is refused; next month one is allowed again."""
    first = await bill_paid(ledger, billing, clock, "r1")
    second = await bill_paid(ledger, billing, clock, "r2")
    assert (await reverse(ledger, first.recharge_id, "rv-1")).status == "succeeded"
    await refused(ledger, second.recharge_id, "monthly", "R-23", key="rv-2")
    clock.set("2026-12-10T10:00:00")
    third = await bill_paid(ledger, billing, clock, "r3")
    assert third.bill_month == "2026-12"
    assert (await reverse(ledger, third.recharge_id, "rv-3")).status == "succeeded"


async def test_reversal_refused_by_boss_does_not_use_the_month(ledger: Ledger,
                                                               billing: BillingSimulator,
                                                               clock: ManualClock,
                                                               sql: Sql) -> None:
    """R-23: a reversal BOSS could not carry out is voided; the month's reversal is still free."""
    done = await bill_paid(ledger, billing, clock)
    billing.fail_next(1)
    rv = await reverse(ledger, done.recharge_id, "rv-1")
    assert rv.status == "failed" and rv.notices == ()
    assert (await ledger.get_recharge(done.recharge_id)).status == "succeeded"
    assert await available(ledger) == 50_000 - 9_800
    assert (await reverse(ledger, done.recharge_id, "rv-2")).status == "succeeded"
    assert await sql("SELECT status FROM reversals ORDER BY id") == [("failed",), ("succeeded",)]


async def test_a_reversed_recharge_cannot_be_reversed_again(ledger: Ledger,
                                                            billing: BillingSimulator,
                                                            clock: ManualClock) -> None:
    """R-23: a recharge is reversed at most once."""
    done = await bill_paid(ledger, billing, clock)
    await reverse(ledger, done.recharge_id, "rv-1")
    await refused(ledger, done.recharge_id, "reversed", "R-23", key="rv-2")


async def test_a_failed_recharge_cannot_be_reversed(ledger: Ledger, billing: BillingSimulator,
                                                    clock: ManualClock) -> None:
    """R-23: only a completed recharge can be reversed."""
    billing.fail_next(1)
    failed = await recharge(ledger, "r1")
    assert failed.status == "failed"
    await refused(ledger, failed.recharge_id, "not_done", "R-23")


async def test_reversal_key_repeated_returns_the_first(ledger: Ledger, billing: BillingSimulator,
                                                       clock: ManualClock) -> None:
    """R-23: a reversal repeated with its key is carried out once."""
    done = await bill_paid(ledger, billing, clock)
    first = await reverse(ledger, done.recharge_id, "rv-1")
    again = await reverse(ledger, done.recharge_id, "rv-1")
    assert (again.id, again.status) == (first.id, "succeeded")
    assert await available(ledger) == 50_000


# -- the customer's balance (R-25) ----------------------------------------------------------------
async def test_reversal_refused_when_the_customer_balance_no_longer_covers_it(
        ledger: Ledger, billing: BillingSimulator, clock: ManualClock) -> None:
    """R-25: once the customer spent part of the money, the reversal is refused."""
    done = await bill_paid(ledger, billing, clock)
    account = billing.account(TargetKind.LANDLINE, LANDLINE)
    assert account is not None
    account.balance_fen -= 1
    await refused(ledger, done.recharge_id, "balance", "R-25")


async def test_reversal_needs_boss_to_know_the_balance(ledger: Ledger, billing: BillingSimulator,
                                                       clock: ManualClock) -> None:
    """R-25: with BOSS down the balance is unknown: no reversal, and the check says "unknown"."""
    done = await bill_paid(ledger, billing, clock)
    billing.down = True
    with pytest.raises(BillingUnavailable):
        await reverse(ledger, done.recharge_id)
    checks = dict(await ledger.reversal_checks(done.recharge_id))
    assert checks["balance"] is None
    billing.down = False
    assert (await ledger.get_recharge(done.recharge_id)).status == "succeeded"


# -- the checks, listed ---------------------------------------------------------------------------
async def test_reversal_checks_lists_every_check(ledger: Ledger, billing: BillingSimulator,
                                                 clock: ManualClock) -> None:
    """R-23..R-25: reversal_checks names every check in order, all passing for a fresh recharge."""
    done = await bill_paid(ledger, billing, clock)
    checks = await ledger.reversal_checks(done.recharge_id)
    assert checks == [(name, True) for name in CHECKS]


Setup = Callable[[Ledger, BillingSimulator, ManualClock, int], Awaitable[None]]


async def _late(ledger: Ledger, billing: BillingSimulator, clock: ManualClock, rid: int) -> None:
    clock.advance(minutes=31)


async def _invoice(ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
                   rid: int) -> None:
    await ledger.mark_invoice(rid)


async def _spent(ledger: Ledger, billing: BillingSimulator, clock: ManualClock, rid: int) -> None:
    account = billing.account(TargetKind.LANDLINE, LANDLINE)
    assert account is not None
    account.balance_fen = 0


async def _late_invoice_spent(ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
                              rid: int) -> None:
    for step in (_late, _invoice, _spent):
        await step(ledger, billing, clock, rid)


@pytest.mark.parametrize("setup, failing", [
    pytest.param(_late, {"late"}, id="late"),
    pytest.param(_invoice, {"invoice"}, id="invoice"),
    pytest.param(_spent, {"balance"}, id="balance"),
    pytest.param(_late_invoice_spent, {"late", "invoice", "balance"}, id="three-at-once"),
])
async def test_reversal_checks_report_each_failure(ledger: Ledger, billing: BillingSimulator,
                                                   clock: ManualClock, setup: Setup,
                                                   failing: set[str]) -> None:
    """R-25: reversal_checks reports pass/fail for every check, not only the first refusal."""
    done = await bill_paid(ledger, billing, clock)
    await setup(ledger, billing, clock, done.recharge_id)
    checks = await ledger.reversal_checks(done.recharge_id)
    assert [name for name, _ in checks] == CHECKS
    assert {name for name, passed in checks if passed is False} == failing
    first = next(name for name, passed in checks if passed is False)
    with pytest.raises(ReversalRefused) as refusal:
        await reverse(ledger, done.recharge_id)
    assert refusal.value.check == first


async def test_reversal_checks_after_a_reversal(ledger: Ledger, billing: BillingSimulator,
                                                clock: ManualClock) -> None:
    """R-23: after its reversal a recharge fails the "reversed" and "monthly" checks."""
    done = await bill_paid(ledger, billing, clock)
    await reverse(ledger, done.recharge_id)
    checks = dict(await ledger.reversal_checks(done.recharge_id))
    assert checks["reversed"] is False and checks["monthly"] is False
    assert checks["not_done"] is True


async def test_a_repeated_reversal_key_never_voids_what_boss_may_have_applied(
        ledger: Ledger, billing: BillingSimulator, clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same key again while the first reversal's outcome is unknown: a 503 on the re-send
    leaves it pending (BOSS applied the first); the follow-up then posts it."""
    done = await bill_paid(ledger, billing, clock)

    async def unreachable(*args: object) -> None:
        raise BillingUnavailable()
    billing.timeout_next(1, applied=True)
    monkeypatch.setattr(billing, "status", unreachable)
    assert (await reverse(ledger, done.recharge_id)).status == "pending"
    monkeypatch.setattr(billing, "reverse", unreachable)
    assert (await reverse(ledger, done.recharge_id)).status == "pending"
    monkeypatch.undo()
    assert (await ledger.recover())["posted"] == 1
    assert (await ledger.get_recharge(done.recharge_id)).status == "reversed"
