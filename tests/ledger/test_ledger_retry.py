"""Retrying a failed recharge (重复充值, R-18): completes it once, never pays BOSS twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ledger_support import AGENT, CUSTOMER, LANDLINE, TX, available, recharge

from ledger import Ledger
from ledger.api import RechargeResult, as_dict
from simulator.billing import BillingSimulator
from smsmenu.core.errors import (
    AgentSuspended,
    BillingTimeout,
    InsufficientFunds,
    UnknownRecharge,
    WrongPassword,
)
from smsmenu.core.types import CreditResult, TargetKind

pytestmark = [pytest.mark.usefixtures("agent"), pytest.mark.both_engines]
OTHER = "18987654321"


def boss_balance(billing: BillingSimulator, number: str = CUSTOMER,
                 kind: TargetKind = TargetKind.MOBILE) -> int:
    account = billing.account(kind, number)
    return account.balance_fen if account else 0


async def failed_once(ledger: Ledger, billing: BillingSimulator, key: str = "r1",
                      **kw: Any) -> dict[str, Any]:
    billing.fail_next(1)
    done = await recharge(ledger, key, **kw)
    assert done.status == "failed"
    return done


def status_times_out_once(billing: BillingSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """BOSS's next status question times out (the answer is lost), later ones are answered."""
    real = billing.status
    left = [1]

    async def flaky(reference: str) -> CreditResult | None:
        if left[0]:
            left[0] -= 1
            raise BillingTimeout()
        return await real(reference)

    monkeypatch.setattr(billing, "status", flaky)


async def test_retry_completes_a_failed_recharge_with_a_new_reference(
        ledger: Ledger, billing: BillingSimulator) -> None:
    """R-18: the agent picks a failed recharge from the list; the platform completes it."""
    failed = await failed_once(ledger, billing)
    [listed] = await ledger.failed(AGENT)
    assert listed.id == failed.recharge_id
    done = await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=listed.id, tx_password=TX)
    assert (done.recharge_id, done.status, done.attempts) == (listed.id, "succeeded", 2)
    assert done.reference != failed.reference
    assert done.past_references == failed.reference
    assert [n.kind for n in done.notices] == ["receipt", "customer"]
    assert boss_balance(billing) == 10_000
    assert await available(ledger) == 50_000 - 9_800
    assert await ledger.failed(AGENT) == []


async def test_retry_that_fails_again_stays_in_the_list(ledger: Ledger,
                                                        billing: BillingSimulator) -> None:
    """R-18: a retry BOSS refuses again leaves the recharge failed, uncharged and listed."""
    failed = await failed_once(ledger, billing)
    billing.fail_next(1)
    done = await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=failed.recharge_id,
                              tx_password=TX)
    assert (done.status, done.attempts) == ("failed", 2)
    assert await available(ledger) == 50_000
    assert [r.id for r in await ledger.failed(AGENT)] == [failed.recharge_id]
    third = await ledger.retry(key="retry-2", msisdn=AGENT, recharge_id=failed.recharge_id,
                               tx_password=TX)
    assert (third.status, third.attempts) == ("succeeded", 3)
    assert len(third.past_references.split()) == 2
    assert boss_balance(billing) == 10_000


async def failed_but_applied(ledger: Ledger, billing: BillingSimulator,
                             kind: TargetKind = TargetKind.MOBILE,
                             target: str = CUSTOMER) -> dict[str, Any]:
    """A recharge recorded failed that BOSS applied all the same (a record from before unknown
    outcomes were kept pending, or a BOSS that broke its word)."""
    billing.down = True
    failed = await recharge(ledger, "r1", kind=kind, target=target)
    billing.down = False
    assert failed.status == "failed"
    await billing.credit(kind, target, failed.amount_fen, failed.reference)
    return failed


async def test_retry_of_a_credit_boss_applied_does_not_credit_twice(
        ledger: Ledger, billing: BillingSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """R-18: an attempt that BOSS applied although we recorded a failure is completed, not repaid."""
    failed = await failed_but_applied(ledger, billing)
    assert boss_balance(billing) == 10_000  # BOSS did credit the customer
    assert await available(ledger) == 50_000  # but we charged nothing yet
    done = await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=failed.recharge_id,
                              tx_password=TX)
    assert done.status == "succeeded"
    assert boss_balance(billing) == 10_000  # credited once
    assert await available(ledger) == 50_000 - 9_800  # charged once
    credits = [e for e in billing.books.entries.values() if e.request[0] == "credit" and e.key]
    assert len(credits) == 1
    assert done.reference == failed.reference  # the reference BOSS knows


async def test_retry_completed_through_an_earlier_attempt_can_be_reversed(
        ledger: Ledger, billing: BillingSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """R-18 with R-23: such a recharge carries BOSS's reference, so BOSS can take it back."""
    billing.open_account(TargetKind.LANDLINE, LANDLINE, "postpaid", bills={"2026-11": 10_000})
    failed = await failed_but_applied(ledger, billing, kind=TargetKind.LANDLINE, target=LANDLINE)
    done = await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=failed.recharge_id,
                              tx_password=TX)
    assert (done.status, done.account_type, done.bill_month) == (
        "succeeded", "postpaid", "2026-11")
    reversed_ = await ledger.reverse(key="rv-1", recharge_id=done.recharge_id, operator="hall")
    assert reversed_.status == "succeeded"
    assert boss_balance(billing, LANDLINE, TargetKind.LANDLINE) == 0
    assert await available(ledger) == 50_000
    assert (await ledger.get_recharge(done.recharge_id)).status == "reversed"


async def test_retry_of_another_agents_recharge_is_unknown(ledger: Ledger,
                                                           billing: BillingSimulator) -> None:
    """R-18: an agent can only retry its own failed recharges."""
    failed = await failed_once(ledger, billing)
    await ledger.open_agent(msisdn=OTHER, name="老李", tx_password="246810",
                            mgmt_password="135790")
    await ledger.deposit(key="d-other", msisdn=OTHER, amount_fen=50_000, channel="counter")
    with pytest.raises(UnknownRecharge) as refused:
        await ledger.retry(key="retry-1", msisdn=OTHER, recharge_id=failed.recharge_id,
                           tx_password="246810")
    assert refused.value.rule == "R-18"
    assert await available(ledger, OTHER) == 50_000
    assert boss_balance(billing) == 0


async def test_retry_of_an_unknown_recharge(ledger: Ledger) -> None:
    """R-18: retrying a recharge that does not exist is refused."""
    with pytest.raises(UnknownRecharge):
        await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=999, tx_password=TX)


async def test_retry_of_a_succeeded_recharge_returns_it_unchanged(
        ledger: Ledger, billing: BillingSimulator) -> None:
    """R-18: a recharge that already succeeded is returned as it is, nothing is paid again."""
    done = await recharge(ledger, "r1")
    again = await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=done.recharge_id,
                               tx_password=TX)
    assert again.notices == ()
    assert {k: v for k, v in as_dict(again).items() if k != "notices"} == {
        k: v for k, v in as_dict(done).items() if k != "notices"}
    assert boss_balance(billing) == 10_000
    assert await available(ledger) == 50_000 - 9_800


async def test_retry_needs_the_transaction_password(ledger: Ledger,
                                                    billing: BillingSimulator) -> None:
    """R-18 with R-2: a retry is paid like a recharge, so it needs the transaction password."""
    failed = await failed_once(ledger, billing)
    with pytest.raises(WrongPassword):
        await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=failed.recharge_id,
                           tx_password="000000")
    assert (await ledger.get_recharge(failed.recharge_id)).status == "failed"
    assert await available(ledger) == 50_000


async def test_retry_refused_while_suspended(ledger: Ledger, billing: BillingSimulator) -> None:
    """R-18 with R-5: no retry while the agent's phone is suspended."""
    failed = await failed_once(ledger, billing)
    await ledger.set_flag(msisdn=AGENT, suspended=True)
    with pytest.raises(AgentSuspended):
        await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=failed.recharge_id,
                           tx_password=TX)


async def test_retry_refused_when_the_deposit_no_longer_covers_it(
        ledger: Ledger, billing: BillingSimulator) -> None:
    """R-18 with R-15: the retry holds the money again, so the deposit must still cover it."""
    failed = await failed_once(ledger, billing, amount_fen=50_000)
    await ledger.set_flag(msisdn=AGENT, rate_ppm=0)
    await recharge(ledger, "spend", 50_000, target="18900002222")
    with pytest.raises(InsufficientFunds):
        await ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=failed.recharge_id,
                           tx_password=TX)
    assert (await ledger.get_recharge(failed.recharge_id)).status == "failed"


async def test_retry_key_repeated_concurrently_pays_once(ledger: Ledger,
                                                         billing: BillingSimulator) -> None:
    """R-18: a retry re-sent with its key (even at the same time) completes the recharge once."""
    failed = await failed_once(ledger, billing)
    results = await asyncio.gather(*[
        ledger.retry(key="retry-1", msisdn=AGENT, recharge_id=failed.recharge_id,
                     tx_password=TX) for _ in range(10)])
    assert {(r.status, r.attempts) for r in results} == {("succeeded", 2)}
    assert boss_balance(billing) == 10_000
    assert await available(ledger) == 50_000 - 9_800


async def test_two_retry_keys_at_once_pay_once(ledger: Ledger, billing: BillingSimulator) -> None:
    """R-18: two different retries of one failed recharge at the same time complete it once."""
    failed = await failed_once(ledger, billing)
    results = await asyncio.gather(*[
        ledger.retry(key=f"retry-{i}", msisdn=AGENT, recharge_id=failed.recharge_id,
                     tx_password=TX) for i in range(5)], return_exceptions=True)
    succeeded = [r for r in results if isinstance(r, RechargeResult) and r.status == "succeeded"]
    assert succeeded, results
    assert boss_balance(billing) == 10_000
    assert await available(ledger) == 50_000 - 9_800
