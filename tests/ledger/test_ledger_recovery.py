"""Crash recovery: a reservation left pending is resolved by asking BOSS, never kept or dropped."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ledger_support import AGENT, CUSTOMER, LANDLINE, MGMT, TX, Sql, available, clean
from ledger_support import recharge as do_recharge

from ledger import Ledger, recharge, reversal
from ledger.api import RechargeRequest
from ledger.recharge import Recharge
from ledger.store.pg import PgReader
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines

SECRET = b"k" * 32


async def crash_after_begin(ledger: Ledger, key: str = "r1", amount_fen: int = 10_000,
                            target: str = CUSTOMER) -> Recharge:
    """The money is held, then the process "dies" before billing's answer is recorded."""
    r = (await ledger.op(recharge.begin, request=RechargeRequest(
            key=key, msisdn=AGENT, kind=TargetKind.MOBILE, target=target, amount_fen=amount_fen,
            tx_password=TX))).recharge
    assert r.status == "pending"
    return r


def boss_balance(billing: BillingSimulator, number: str = CUSTOMER,
                 kind: TargetKind = TargetKind.MOBILE) -> int:
    account = billing.account(kind, number)
    return account.balance_fen if account else 0


@contextlib.asynccontextmanager
async def opened(settings: Settings, billing: BillingSimulator,
                 clock: ManualClock) -> AsyncIterator[Ledger]:
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=SECRET) as ledger:
        yield ledger


# -- in one process -------------------------------------------------------------------------------
async def test_reservation_boss_applied_is_posted(agent: dict[str, Any], ledger: Ledger,
                                                  billing: BillingSimulator, sql: Sql) -> None:
    """R-16: BOSS credited the customer before the crash: recovery posts the charge, once."""
    r = await crash_after_begin(ledger)
    assert await available(ledger) == 50_000 - 9_800  # held, not yet posted
    assert (await ledger.agent(AGENT)).reserved_fen == 9_800
    await billing.credit(TargetKind.MOBILE, CUSTOMER, 10_000, r.reference)
    assert await ledger.recover() == {"posted": 1, "voided": 0, "kept": 0}
    done = await ledger.get_recharge(r.id)
    assert done.status == "succeeded"
    assert boss_balance(billing) == 10_000
    view = await ledger.agent(AGENT)
    assert (view.balance_fen, view.reserved_fen) == (50_000 - 9_800, 0)
    assert await sql("SELECT kind FROM outbox WHERE kind IN ('receipt', 'customer')") == [
        ("receipt",), ("customer",)]


async def test_reservation_boss_never_saw_is_credited_then_posted(
        agent: dict[str, Any], ledger: Ledger, billing: BillingSimulator) -> None:
    """R-16: BOSS never saw the reference: recovery completes what the agent asked (credits it)."""
    r = await crash_after_begin(ledger)
    assert await billing.status(r.reference) is None
    assert await ledger.recover() == {"posted": 1, "voided": 0, "kept": 0}
    assert (await ledger.get_recharge(r.id)).status == "succeeded"
    assert boss_balance(billing) == 10_000
    assert await available(ledger) == 50_000 - 9_800


async def test_reservation_boss_refused_is_voided(agent: dict[str, Any], ledger: Ledger,
                                                  billing: BillingSimulator) -> None:
    """R-18: BOSS refused the credit before the crash: recovery voids it; it is listed as failed."""
    r = await crash_after_begin(ledger)
    billing.fail_next(1)
    await billing.credit(TargetKind.MOBILE, CUSTOMER, 10_000, r.reference)
    assert await ledger.recover() == {"posted": 0, "voided": 1, "kept": 0}
    assert (await ledger.get_recharge(r.id)).status == "failed"
    assert await available(ledger) == 50_000
    assert [f.id for f in await ledger.failed(AGENT)] == [r.id]


async def test_reservation_kept_while_boss_is_down(agent: dict[str, Any], ledger: Ledger,
                                                   billing: BillingSimulator) -> None:
    """R-15: with BOSS unreachable the reservation is kept (reported as kept), money still held."""
    r = await crash_after_begin(ledger)
    billing.down = True
    assert await ledger.recover() == {"posted": 0, "voided": 0, "kept": 1}
    assert (await ledger.get_recharge(r.id)).status == "pending"
    assert (await ledger.agent(AGENT)).reserved_fen == 9_800
    billing.down = False
    assert await ledger.recover() == {"posted": 1, "voided": 0, "kept": 0}
    assert boss_balance(billing) == 10_000


async def test_recover_leaves_young_reservations_alone(agent: dict[str, Any], ledger: Ledger,
                                                       clock: ManualClock) -> None:
    """R-15: ``older_than`` spares reservations whose caller may still be settling them."""
    r = await crash_after_begin(ledger)
    clock.advance(seconds=59)
    assert await ledger.recover(dt.timedelta(seconds=60)) == {"posted": 0, "voided": 0, "kept": 0}
    clock.advance(seconds=1)
    assert await ledger.recover(dt.timedelta(seconds=60)) == {"posted": 1, "voided": 0, "kept": 0}
    assert (await ledger.get_recharge(r.id)).status == "succeeded"


async def test_recover_after_the_caller_finished_changes_nothing(agent: dict[str, Any],
                                                                 ledger: Ledger,
                                                                 billing: BillingSimulator) -> None:
    """R-15: recovery of a ledger with nothing pending does nothing."""
    await do_recharge(ledger, "r1")
    assert await ledger.recover() == {"posted": 0, "voided": 0, "kept": 0}
    assert boss_balance(billing) == 10_000


async def test_pending_reversal_is_settled(agent: dict[str, Any], ledger: Ledger,
                                           billing: BillingSimulator) -> None:
    """R-23: a reversal whose BOSS answer was lost is carried out by recovery."""
    billing.open_account(TargetKind.LANDLINE, LANDLINE, "postpaid", bills={"2026-11": 10_000})
    done = await do_recharge(ledger, "r1", kind=TargetKind.LANDLINE, target=LANDLINE)
    rv = await ledger.op(reversal.begin, key="rv1", recharge_id=done.recharge_id,
                         operator="10000", customer_balance=10_000)
    assert rv.status == "pending"
    assert await ledger.recover() == {"posted": 1, "voided": 0, "kept": 0}
    assert (await ledger.get_recharge(done.recharge_id)).status == "reversed"
    assert await available(ledger) == 50_000
    assert boss_balance(billing, LANDLINE, TargetKind.LANDLINE) == 0


# -- across a restart -----------------------------------------------------------------------------
@pytest.mark.parametrize("boss, status, credited", [
    pytest.param("applied", "succeeded", 10_000, id="boss-applied"),
    pytest.param("never-saw", "succeeded", 10_000, id="boss-never-saw"),
    pytest.param("refused", "failed", 0, id="boss-refused"),
])
async def test_restart_then_recover(settings: Settings, billing: BillingSimulator,
                                    clock: ManualClock, boss: str, status: str,
                                    credited: int) -> None:
    """R-15/R-16: close the ledger between reservation and answer; the next start resolves it."""
    async with opened(settings, billing, clock) as before:
        await before.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
        await before.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
        r = await crash_after_begin(before)
    if boss == "refused":
        billing.fail_next(1)
    if boss != "never-saw":
        await billing.credit(TargetKind.MOBILE, CUSTOMER, 10_000, r.reference)
    clock.advance(minutes=5)  # the restart took a while: the reservation is stale by now
    async with opened(settings, billing, clock) as after:
        assert not clean(await after.verify())
        counts = await after.recover()
        assert counts["kept"] == 0 and counts["posted"] + counts["voided"] == 1
        assert (await after.get_recharge(r.id)).status == status
        assert boss_balance(billing) == credited
        charged = 9_800 if status == "succeeded" else 0
        view = await after.agent(AGENT)
        assert (view.balance_fen, view.reserved_fen) == (50_000 - charged, 0)
        assert clean(await after.verify())


async def test_restart_with_boss_down_keeps_then_resolves(settings: Settings,
                                                          billing: BillingSimulator,
                                                          clock: ManualClock) -> None:
    """R-15: after a restart with BOSS down the reservation is kept, then resolved once it is up."""
    async with opened(settings, billing, clock) as before:
        await before.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
        await before.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
        r = await crash_after_begin(before)
        await billing.credit(TargetKind.MOBILE, CUSTOMER, 10_000, r.reference)
    billing.down = True
    async with opened(settings, billing, clock) as after:
        assert (await after.recover())["kept"] == 1
    billing.down = False
    async with opened(settings, billing, clock) as again:
        assert await again.recover() == {"posted": 1, "voided": 0, "kept": 0}
        assert boss_balance(billing) == 10_000
        assert clean(await again.verify())


async def test_restart_during_a_retry_of_an_applied_credit_pays_once(
        settings: Settings, billing: BillingSimulator, clock: ManualClock) -> None:
    """R-18: a retry interrupted by a crash, whose first attempt BOSS had applied anyway (a
    record from before unknown outcomes were kept pending), is not repaid."""
    async with opened(settings, billing, clock) as before:
        await before.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
        await before.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
        billing.down = True
        failed = await do_recharge(before, "r1")
        billing.down = False
        assert failed.status == "failed"
        await billing.credit(TargetKind.MOBILE, CUSTOMER, 10_000, failed.reference)
        pending = (await before.op(recharge.begin_retry, key="retry", msisdn=AGENT,
                                   recharge_id=failed.recharge_id, tx_password=TX)).recharge
        assert pending.status == "pending"
    async with opened(settings, billing, clock) as after:
        assert await after.recover() == {"posted": 1, "voided": 0, "kept": 0}
        assert (await after.get_recharge(pending.id)).status == "succeeded"
        assert boss_balance(billing) == 10_000
        assert await available(after) == 50_000 - 9_800
        assert clean(await after.verify())


async def test_reservations_whose_caller_went_away_are_resolved_while_serving(
        ledger: Ledger, agent: dict[str, object]) -> None:
    """A reservation left by a cancelled caller is settled by the periodic recovery, not at restart."""
    held = (await ledger.op(recharge.begin, request=RechargeRequest(
            key="gone", msisdn=AGENT, kind=TargetKind.MOBILE, target="18900001111",
            amount_fen=1_000, tx_password=TX))).recharge
    task = asyncio.create_task(ledger.recover_forever(0.01, dt.timedelta(0)))
    try:
        for _ in range(200):
            if (await ledger.get_recharge(held.id)).status != "pending":
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert (await ledger.get_recharge(held.id)).status == "succeeded"
    assert not any((await ledger.verify()).values())


async def test_on_postgres_one_instance_at_a_time_recovers(
        agent: dict[str, Any], ledger: Ledger, billing: BillingSimulator, settings: Settings,
        clock: ManualClock, engine: str) -> None:
    """Several instances on one PostgreSQL: while one holds the recovery claim, another's round
    does nothing (no second BOSS query, no race to finish); once it is free, the other recovers."""
    if engine != "postgres":
        pytest.skip("the claim is PostgreSQL's: on SQLite one server owns the file")
    r = await crash_after_begin(ledger)
    await billing.credit(TargetKind.MOBILE, CUSTOMER, 10_000, r.reference)
    assert isinstance(ledger.reader, PgReader)
    async with opened(settings, billing, clock) as other:
        async with ledger.reader.exclusive("recovery") as mine:
            assert mine
            assert await other.recover() == {"posted": 0, "voided": 0, "kept": 0}
        assert await other.recover() == {"posted": 1, "voided": 0, "kept": 0}
    assert (await ledger.get_recharge(r.id)).status == "succeeded"
