"""Recharging a customer through the ledger: R-5, R-11, R-13..R-17, billing outcomes, idempotency."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from ledger_support import AGENT, CUSTOMER, LANDLINE, Sql, available, recharge

from ledger import Ledger
from ledger.store import queries
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import (
    AgentSuspended,
    BillingUnavailable,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidNumber,
    UnknownAgent,
    WrongPassword,
)
from smsmenu.core.refno import quote
from smsmenu.core.types import TargetKind

pytestmark = [pytest.mark.usefixtures("agent"), pytest.mark.both_engines]

MOBILE, FIXED, PHS, ADSL = (TargetKind.MOBILE, TargetKind.LANDLINE, TargetKind.PHS,
                            TargetKind.BROADBAND)


def boss_balance(billing: BillingSimulator, kind: TargetKind, number: str) -> int:
    account = billing.account(kind, number)
    return account.balance_fen if account else 0


async def books(sql: Sql) -> dict[str, int]:
    """Every account's balance by code."""
    return {code: balance for code, balance in await sql("SELECT code, balance FROM accounts")}


# -- amounts (R-13) -------------------------------------------------------------------------------
@pytest.mark.parametrize("fen, ok", [
    pytest.param(0, False, id="0-yuan"),
    pytest.param(990, False, id="9.9-yuan"),
    pytest.param(1_000, True, id="10-yuan"),
    pytest.param(1_500, False, id="15-yuan"),
    pytest.param(50_000, True, id="500-yuan"),
    pytest.param(100_000, True, id="1000-yuan"),
    pytest.param(101_000, False, id="1010-yuan"),
])
async def test_recharge_amount_is_10_to_1000_yuan_in_tens(ledger: Ledger, billing: BillingSimulator,
                                                          fen: int, ok: bool) -> None:
    """R-13: one recharge is 10 to 1000 yuan, a multiple of 10 yuan."""
    await ledger.deposit(key="more", msisdn=AGENT, amount_fen=100_000, channel="counter")
    before = await available(ledger)
    if ok:
        done = await recharge(ledger, "r1", fen)
        assert done.status == "succeeded"
        assert boss_balance(billing, MOBILE, CUSTOMER) == fen
    else:
        with pytest.raises(InvalidAmount) as refused:
            await recharge(ledger, "r1", fen)
        assert refused.value.rule == "R-13"
        assert await available(ledger) == before
        assert billing.account(MOBILE, CUSTOMER) is None


# -- numbers (R-14) -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, target, stored", [
    pytest.param(MOBILE, "18900001111", "18900001111", id="mobile"),
    pytest.param(MOBILE, "+86 189-0000-1111", "18900001111", id="mobile-country-code"),
    pytest.param(FIXED, "02787654321", "02787654321", id="landline-8-digits"),
    pytest.param(FIXED, "0277654321", "0277654321", id="landline-7-digits"),
    pytest.param(PHS, "02761234567", "02761234567", id="phs"),
    pytest.param(ADSL, "02712345678", "02712345678", id="broadband"),
    pytest.param(FIXED, "071023456789", "071023456789", id="landline-other-hubei-code"),
])
async def test_recharge_accepts_each_kinds_number_format(ledger: Ledger, billing: BillingSimulator,
                                                         kind: TargetKind, target: str,
                                                         stored: str) -> None:
    """R-14: landline, PHS and broadband with the area code, mobile without; stored normalised."""
    done = await recharge(ledger, "r1", 1_000, kind=kind, target=target)
    assert (done.status, done.kind, done.target) == ("succeeded", kind.value, stored)
    assert boss_balance(billing, kind, stored) == 1_000


@pytest.mark.parametrize("kind, target", [
    pytest.param(MOBILE, "02718900001111", id="mobile-with-area-code"),
    pytest.param(MOBILE, "13812345678", id="mobile-not-china-telecom"),
    pytest.param(MOBILE, "1890000111", id="mobile-short"),
    pytest.param(FIXED, "87654321", id="landline-without-area-code"),
    pytest.param(FIXED, "02912345678", id="landline-unknown-area-code"),
    pytest.param(FIXED, "02712345678", id="landline-starting-1"),
    pytest.param(PHS, "61234567", id="phs-without-area-code"),
    pytest.param(ADSL, "0271234567", id="broadband-7-digits"),
    pytest.param(ADSL, "18900001111", id="broadband-mobile-number"),
    pytest.param(MOBILE, "", id="empty"),
])
async def test_recharge_refuses_a_number_of_the_wrong_form(ledger: Ledger, sql: Sql,
                                                           kind: TargetKind, target: str) -> None:
    """R-14: a number that breaks its kind's rule is refused before any money is held."""
    with pytest.raises(InvalidNumber) as refused:
        await recharge(ledger, "r1", 1_000, kind=kind, target=target)
    assert refused.value.rule == "R-14"
    assert await sql("SELECT id FROM recharges") == []


# -- funds, suspension, the agent's own number (R-11) --------------------------------
async def test_recharge_refused_when_the_deposit_does_not_cover_it(ledger: Ledger,
                                                                   billing: BillingSimulator,
                                                                   sql: Sql) -> None:
    """R-15: the recharge account must cover amount - commission; else nothing happens."""
    with pytest.raises(InsufficientFunds) as refused:
        await recharge(ledger, "r1", 60_000)  # charge 588 yuan > 500 yuan
    assert refused.value.rule == "R-15"
    assert "588.00" in str(refused.value) and "500.00" in str(refused.value)
    assert await available(ledger) == 50_000
    assert await sql("SELECT id FROM recharges") == []
    assert billing.account(MOBILE, CUSTOMER) is None


async def test_recharge_may_use_the_deposit_to_the_last_fen(ledger: Ledger) -> None:
    """R-15: a charge equal to the balance is allowed; one fen more is not."""
    await ledger.set_flag(msisdn=AGENT, rate_ppm=0)
    assert (await recharge(ledger, "r1", 49_000)).status == "succeeded"
    assert (await recharge(ledger, "r2", 1_000)).status == "succeeded"
    assert await available(ledger) == 0
    with pytest.raises(InsufficientFunds):
        await recharge(ledger, "r3", 1_000)


async def test_suspended_phone_refuses_recharge_and_resume_allows_it(ledger: Ledger,
                                                                     sql: Sql) -> None:
    """R-5: while the agent's own phone is suspended no recharge is allowed; resuming allows it."""
    await ledger.set_flag(msisdn=AGENT, suspended=True)
    assert (await ledger.agent(AGENT)).phone_suspended is True
    with pytest.raises(AgentSuspended) as refused:
        await recharge(ledger, "r1")
    assert refused.value.rule == "R-5"
    assert await sql("SELECT id FROM recharges") == []
    await ledger.set_flag(msisdn=AGENT, suspended=False)
    assert (await recharge(ledger, "r2")).status == "succeeded"


async def test_agent_may_recharge_its_own_number(ledger: Ledger, billing: BillingSimulator) -> None:
    """R-11: money may flow from the recharge account to the agent's own personal phone."""
    done = await recharge(ledger, "own", 10_000, target=AGENT)
    assert done.status == "succeeded"
    assert boss_balance(billing, MOBILE, AGENT) == 10_000
    assert await available(ledger) == 50_000 - 9_800


async def test_unknown_agent_cannot_recharge(ledger: Ledger) -> None:
    """R-1: only an agent can recharge."""
    with pytest.raises(UnknownAgent):
        await recharge(ledger, "r1", msisdn="18911112222")


async def test_wrong_transaction_password_holds_nothing(ledger: Ledger, sql: Sql) -> None:
    """R-2: a recharge needs the transaction password; a wrong one holds no money."""
    with pytest.raises(WrongPassword):
        await recharge(ledger, "r1", tx_password="000000")
    assert await available(ledger) == 50_000
    assert await sql("SELECT id FROM recharges") == []


# -- commission (R-16) ----------------------------------------------------------------------------
async def test_commission_at_the_default_rate_is_settled_in_real_time(
        ledger: Ledger, billing: BillingSimulator, sql: Sql) -> None:
    """R-16: at the default 2% the agent pays 98 yuan for 100, the customer gets 100."""
    before = await books(sql)
    done = await recharge(ledger, "r1", 10_000)
    assert (done.commission_fen, done.charge_fen) == (200, 9_800)
    after = await books(sql)
    moved = {code: after[code] - before[code] for code in after if after[code] != before[code]}
    assert moved == {"agent:1": -9_800, "expense:commission": -200, "settlement:mobile": 10_000}
    assert boss_balance(billing, MOBILE, CUSTOMER) == 10_000
    assert (await ledger.agent(AGENT)).reserved_fen == 0


@pytest.mark.parametrize("rate_ppm, fen, commission", [
    pytest.param(15_000, 10_000, 150, id="1.5%-of-100"),
    pytest.param(0, 10_000, 0, id="zero-rate"),
    pytest.param(12_345, 1_000, 12, id="12.345-fen-rounds-down"),
    pytest.param(199_999, 1_000, 199, id="199.999-fen-rounds-down"),
    pytest.param(33_333, 3_000, 99, id="99.999-fen-rounds-down"),
    pytest.param(50_000, 1_000, 50, id="exact"),
])
async def test_commission_at_a_per_agent_rate_rounds_down(ledger: Ledger, rate_ppm: int, fen: int,
                                                          commission: int) -> None:
    """R-16: the per-agent rate set by the operator applies; a fraction of a fen is dropped."""
    await ledger.set_flag(msisdn=AGENT, rate_ppm=rate_ppm)
    done = await recharge(ledger, "r1", fen)
    assert (done.commission_fen, done.charge_fen) == (commission, fen - commission)
    assert await available(ledger) == 50_000 - (fen - commission)


# -- notices (R-17) -------------------------------------------------------------------------------
def sent(done: dict[str, Any]) -> list[tuple[str, str]]:
    return [(n.to, n.kind) for n in done.notices]


@pytest.mark.parametrize("kind, target, notice_to, customer", [
    pytest.param(MOBILE, CUSTOMER, None, CUSTOMER, id="mobile-target"),
    pytest.param(PHS, "02761234567", None, "02761234567", id="phs-target"),
    pytest.param(FIXED, LANDLINE, "18900002222", "18900002222", id="landline-mobile-notice"),
    pytest.param(FIXED, LANDLINE, "02761234567", "02761234567", id="landline-phs-notice"),
    pytest.param(ADSL, "02712345678", "18900002222", "18900002222", id="broadband-notice"),
    pytest.param(FIXED, LANDLINE, None, None, id="landline-without-notice"),
    pytest.param(ADSL, "02712345678", None, None, id="broadband-without-notice"),
])
async def test_success_notices_go_to_agent_and_customer(ledger: Ledger, sql: Sql,
                                                        kind: TargetKind, target: str,
                                                        notice_to: str | None,
                                                        customer: str | None) -> None:
    """R-17: the agent gets a receipt; the customer a notice at its mobile/PHS or notice number."""
    done = await recharge(ledger, "r1", 5_000, kind=kind, target=target, notice_to=notice_to)
    expected = [(AGENT, "receipt")] + ([(customer, "customer")] if customer else [])
    assert sent(done) == expected
    assert await sql("SELECT to_msisdn, kind FROM outbox WHERE kind IN ('receipt', 'customer') "
                     "ORDER BY id") == expected
    receipt = done.notices[0].text
    assert "50.00" in receipt and quote(done.recharge_id) in receipt


@pytest.mark.parametrize("kind, target", [
    pytest.param(MOBILE, CUSTOMER, id="mobile"),
    pytest.param(PHS, "02761234567", id="phs"),
])
async def test_notice_number_is_refused_for_a_mobile_or_phs_target(ledger: Ledger, sql: Sql,
                                                                   kind: TargetKind,
                                                                   target: str) -> None:
    """R-17: another notice number is only for landline and broadband targets."""
    with pytest.raises(InvalidNumber) as refused:
        await recharge(ledger, "r1", kind=kind, target=target, notice_to="18900002222")
    assert refused.value.rule == "R-17"
    assert await sql("SELECT id FROM recharges") == []


@pytest.mark.parametrize("notice_to", [
    pytest.param("13812345678", id="not-china-telecom"),
    pytest.param("1890000", id="too-short"),
    pytest.param("0291234567", id="unknown-area-code"),
])
async def test_notice_number_must_receive_sms(ledger: Ledger, notice_to: str) -> None:
    """R-17: a notice number must be a mobile or PHS number that can receive the SMS."""
    with pytest.raises(InvalidNumber) as refused:
        await recharge(ledger, "r1", kind=FIXED, target=LANDLINE, notice_to=notice_to)
    assert refused.value.rule == "R-17"


# -- billing outcomes -----------------------------------------------------------------------------
async def test_billing_failure_fails_the_recharge_and_charges_nothing(
        ledger: Ledger, billing: BillingSimulator) -> None:
    """R-18: a recharge BOSS refuses is failed, voided (nothing charged) and listed for retry."""
    billing.fail_next(1)
    done = await recharge(ledger, "r1")
    assert done.status == "failed"
    assert done.failure == "declined: simulated failure"
    assert sent(done) == [(AGENT, "recharge_failed")]
    assert (await ledger.agent(AGENT)).balance_fen == 50_000
    assert (await ledger.agent(AGENT)).reserved_fen == 0
    assert boss_balance(billing, MOBILE, CUSTOMER) == 0
    assert [r.id for r in await ledger.failed(AGENT)] == [done.recharge_id]


async def test_billing_timeout_applied_is_resolved_as_success(ledger: Ledger,
                                                              billing: BillingSimulator) -> None:
    """R-16: a credit that timed out but was applied at BOSS is found by status and posted."""
    billing.timeout_next(1, applied=True)
    done = await recharge(ledger, "r1")
    assert done.status == "succeeded"
    assert boss_balance(billing, MOBILE, CUSTOMER) == 10_000
    assert await available(ledger) == 50_000 - 9_800
    assert await ledger.failed(AGENT) == []


async def test_billing_timeout_not_seen_stays_pending(ledger: Ledger,
                                                     billing: BillingSimulator) -> None:
    """A credit that timed out and BOSS has not seen (yet) is unknown: held, never voided."""
    billing.timeout_next(1, applied=False)
    done = await recharge(ledger, "r1")
    assert (done.status, done.failure) == ("pending", None)
    assert sent(done) == [(AGENT, "recharge_pending")]
    assert await available(ledger) == 50_000 - 9_800
    assert (await ledger.agent(AGENT)).reserved_fen == 9_800
    assert await ledger.failed(AGENT) == []


async def test_late_credit_after_a_timeout_is_posted_not_given_away(
        ledger: Ledger, billing: BillingSimulator, clock: ManualClock) -> None:
    """Issue 9 defect 2: BOSS applies a timed-out credit a moment later: the agent is charged."""
    billing.timeout_next(1, applied=False)
    done = await recharge(ledger, "r1")
    await billing.credit(TargetKind.MOBILE, CUSTOMER, 10_000, done.reference)  # arrives late
    clock.advance(seconds=10)
    assert await ledger.recover(retry_after=dt.timedelta(seconds=10)) == {
        "posted": 1, "voided": 0, "kept": 0}
    after = await ledger.get_recharge(done.recharge_id)
    assert after.status == "succeeded"
    assert boss_balance(billing, MOBILE, CUSTOMER) == 10_000
    assert await available(ledger) == 50_000 - 9_800
    assert (await ledger.agent(AGENT)).reserved_fen == 0


async def test_unknown_credit_is_resent_under_its_reference_once(
        ledger: Ledger, billing: BillingSimulator, clock: ManualClock) -> None:
    """The follow-up re-sends an unknown credit under the same reference: BOSS applies it once."""
    billing.timeout_next(1, applied=False)
    done = await recharge(ledger, "r1")
    clock.advance(seconds=5)
    assert (await ledger.recover(retry_after=dt.timedelta(seconds=10)))["posted"] == 0  # not due
    clock.advance(seconds=5)
    assert (await ledger.recover(retry_after=dt.timedelta(seconds=10)))["posted"] == 1
    assert (await ledger.recover())["posted"] == 0
    assert boss_balance(billing, MOBILE, CUSTOMER) == 10_000
    assert (await ledger.get_recharge(done.recharge_id)).status == "succeeded"


async def test_unknown_credit_is_cancelled_after_give_up_and_voided(
        ledger: Ledger, billing: BillingSimulator, clock: ManualClock) -> None:
    """Past give_up_after_s BOSS is asked to cancel; once it confirms, the hold is voided and a
    credit arriving after that under the reference is refused at BOSS."""
    billing.timeout_next(1, applied=False)
    billing.down = False
    done = await recharge(ledger, "r1")
    billing.down = True  # BOSS unreachable during the whole follow-up window
    clock.advance(seconds=ledger.env.rules.billing_give_up.total_seconds() - 1)
    assert (await ledger.recover())["kept"] == 1
    clock.advance(seconds=2)
    assert (await ledger.recover())["kept"] == 1  # the cancel cannot reach BOSS either: held
    billing.down = False
    assert (await ledger.recover())["voided"] == 1
    after = await ledger.get_recharge(done.recharge_id)
    assert (after.status, after.failure) == ("failed", "cancelled")
    late = await billing.credit(TargetKind.MOBILE, CUSTOMER, 10_000, done.reference)
    assert (late.ok, late.reason) == (False, "cancelled")
    assert boss_balance(billing, MOBILE, CUSTOMER) == 0
    assert await available(ledger) == 50_000


async def test_cancel_of_an_applied_credit_posts_it(
        ledger: Ledger, billing: BillingSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancel that finds the credit applied at BOSS posts the recharge: never voided."""
    async def unreachable(reference: str) -> None:
        raise BillingUnavailable()
    billing.timeout_next(1, applied=True)
    monkeypatch.setattr(billing, "status", unreachable)
    done = await recharge(ledger, "r1")
    assert done.status == "pending"  # applied, but BOSS could not say so after the timeout
    monkeypatch.undo()
    cancelled = await ledger.cancel(done.recharge_id, operator="li")
    assert cancelled.status == "succeeded"
    assert boss_balance(billing, MOBILE, CUSTOMER) == 10_000
    assert await available(ledger) == 50_000 - 9_800


async def test_billing_unavailable_fails_the_recharge(ledger: Ledger,
                                                      billing: BillingSimulator) -> None:
    """R-18: with BOSS down the recharge fails without charging and can be retried later."""
    billing.down = True
    done = await recharge(ledger, "r1")
    assert (done.status, done.failure) == ("failed", "unavailable")
    billing.down = False
    assert await available(ledger) == 50_000
    assert len(await ledger.failed(AGENT)) == 1


# -- idempotency ----------------------------------------------------------------------------------
async def test_repeated_key_returns_the_first_recharge(ledger: Ledger, billing: BillingSimulator,
                                                       sql: Sql) -> None:
    """R-15: a recharge repeated with its key (a re-sent SMS) is charged once."""
    first = await recharge(ledger, "sms-1")
    again = await recharge(ledger, "sms-1")
    assert again.recharge_id == first.recharge_id
    assert again.status == "succeeded" and again.notices == ()
    assert boss_balance(billing, MOBILE, CUSTOMER) == 10_000
    assert await available(ledger) == 50_000 - 9_800
    assert await sql("SELECT COUNT(*) FROM recharges") == [(1,)]


async def test_repeated_key_of_a_failed_recharge_does_not_try_again(
        ledger: Ledger, billing: BillingSimulator) -> None:
    """R-18: repeating a failed recharge's key returns the failure; only a retry re-attempts."""
    billing.fail_next(1)
    first = await recharge(ledger, "sms-1")
    again = await recharge(ledger, "sms-1")
    assert (again.recharge_id, again.status) == (first.recharge_id, "failed")
    assert boss_balance(billing, MOBILE, CUSTOMER) == 0
    assert len(billing.books.entries) == 1


@pytest.mark.parametrize("change", [
    pytest.param({"amount_fen": 20_000}, id="amount"),
    pytest.param({"target": "18900002222"}, id="target"),
    pytest.param({"kind": FIXED, "target": LANDLINE}, id="kind"),
])
async def test_repeated_key_with_other_fields_is_a_conflict(ledger: Ledger, change: dict[str, Any],
                                                            billing: BillingSimulator) -> None:
    """R-15: a key reused for a different recharge is refused and charges nothing."""
    await recharge(ledger, "sms-1")
    with pytest.raises(IdempotencyConflict):
        await recharge(ledger, "sms-1", **change)
    assert await available(ledger) == 50_000 - 9_800


@pytest.mark.parametrize("latency", [pytest.param(0.0, id="instant"),
                                     pytest.param(0.002, id="slow-boss")])
async def test_concurrent_repeats_of_one_key_charge_once(ledger: Ledger, billing: BillingSimulator,
                                                         sql: Sql, latency: float) -> None:
    """R-15: the same key sent 20 times at once yields one recharge, one credit, one charge."""
    billing.latency = latency
    results = await asyncio.gather(*[recharge(ledger, "sms-1") for _ in range(20)])
    assert len({r.recharge_id for r in results}) == 1
    assert {r.status for r in results} == {"succeeded"}
    assert boss_balance(billing, MOBILE, CUSTOMER) == 10_000
    assert await available(ledger) == 50_000 - 9_800
    assert await sql("SELECT COUNT(*) FROM recharges") == [(1,)]
    assert await sql("SELECT COUNT(*) FROM outbox WHERE kind = 'receipt'") == [(1,)]


# -- queries (R-21, R-22) -------------------------------------------------------------------------
async def test_history_between_two_dates(ledger: Ledger, clock: ManualClock) -> None:
    """R-21: the agent's recharges created in [start, end), newest first."""
    start = clock.now()
    first = await recharge(ledger, "r1", 1_000)
    clock.advance(days=1)
    second = await recharge(ledger, "r2", 2_000)
    clock.advance(days=1)
    third = await recharge(ledger, "r3", 3_000)
    ids = [r.id for r in await ledger.records(AGENT)]
    assert ids == [third.recharge_id, second.recharge_id, first.recharge_id]
    window = await ledger.records(AGENT, start + dt.timedelta(hours=12),
                                  start + dt.timedelta(days=2))
    assert [r.id for r in window] == [second.recharge_id]


async def test_customer_lookup_by_number(ledger: Ledger) -> None:
    """R-22: a customer's recharges can be looked up by its number."""
    done = await recharge(ledger, "r1", 1_000)
    await recharge(ledger, "r2", 1_000, target="18900002222")
    found = await ledger.read(queries.by_target(CUSTOMER))
    assert [(r.id, r.amount) for r in found] == [(done.recharge_id, 1_000)]
