"""`ledger verify`: the invariants hold after real scenarios and every breach is reported."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import psycopg
import pytest
from ledger_support import AGENT, LANDLINE, MGMT, TX, available, clean
from ledger_support import recharge as do_recharge

from ledger import Ledger, recharge
from ledger.api import RechargeRequest
from ledger.store import engine
from ledger.store.pg import PgConn, connect
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.core.types import TargetKind
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines

INVARIANTS = ["transfers sum to zero", "ledger sums to zero", "balances equal postings",
              "reservations equal pending debits", "no overdraft", "no stale reservation",
              "recharges match their transfers", "reversals match their transfers",
              "audit log chained"]


INTEGRITY = (sqlite3.IntegrityError, psycopg.IntegrityError)


@contextlib.contextmanager
def raw(settings: Settings) -> Iterator[sqlite3.Connection]:
    """A separate connection to the ledger's database, as a careless operator would open one
    (autocommit; on PostgreSQL with the store's placeholders)."""
    if engine.parse(settings.ledger.db).postgres:
        pg = PgConn(connect(settings.ledger.db))
        try:
            yield cast(sqlite3.Connection, pg)
        finally:
            pg.close()
        return
    conn = sqlite3.connect(settings.ledger.db, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def own_ledger(settings: Settings, billing: BillingSimulator,
                     clock: ManualClock) -> AsyncIterator[Ledger]:
    """A ledger with an agent and a few recharges, not checked at teardown (it gets corrupted)."""
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as opened:
        await opened.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
        await opened.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
        billing.open_account(TargetKind.LANDLINE, LANDLINE, "postpaid", bills={"2026-11": 5_000})
        done = await do_recharge(opened, "r1", 5_000, kind=TargetKind.LANDLINE, target=LANDLINE)
        await opened.reverse(key="rv1", recharge_id=done.recharge_id, operator="10000")
        billing.fail_next(1)
        await do_recharge(opened, "r2")
        await do_recharge(opened, "r3")
        assert clean(await opened.verify())
        yield opened


def breached(report: dict[str, list[str]]) -> set[str]:
    return {name for name, lines in report.items() if lines}


async def test_verify_is_clean_after_a_full_scenario(ledger: Ledger, billing: BillingSimulator,
                                                     clock: ManualClock) -> None:
    """R-15/R-23: after deposits, recharges, failures, a retry, a reversal and a close, all hold."""
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT)
    await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=50_000, channel="counter")
    await ledger.deposit(key="d2", msisdn=AGENT, amount_fen=1_000, channel="online")
    billing.open_account(TargetKind.LANDLINE, LANDLINE, "postpaid", bills={"2026-11": 5_000})
    done = await do_recharge(ledger, "r1", 5_000, kind=TargetKind.LANDLINE, target=LANDLINE)
    billing.fail_next(1)
    failed = await do_recharge(ledger, "r2")
    billing.timeout_next(1, applied=True)
    await do_recharge(ledger, "r3")
    await ledger.retry(key="retry", msisdn=AGENT, recharge_id=failed.recharge_id,
                       tx_password=TX)
    await ledger.reverse(key="rv", recharge_id=done.recharge_id, operator="10000")
    report = await ledger.verify()
    assert list(report) == INVARIANTS
    assert clean(report), report
    left = await available(ledger)
    await ledger.set_flag(msisdn=AGENT, rate_ppm=0)
    while left >= 1_000:
        step = min(100_000, left // 1_000 * 1_000)
        await do_recharge(ledger, f"spend-{left}", step)
        left = await available(ledger)
    await ledger.close_agent(key="close", msisdn=AGENT)
    assert clean(await ledger.verify())


async def test_cached_balance_corruption_is_reported(settings: Settings, billing: BillingSimulator,
                                                     clock: ManualClock) -> None:
    """R-15: a balance changed behind the ledger's back no longer equals its postings."""
    async with own_ledger(settings, billing, clock) as ledger:
        with raw(settings) as conn:
            conn.execute("UPDATE accounts SET balance = balance + 1 WHERE code = 'agent:1'")
        report = await ledger.verify()
        assert breached(report) == {"balances equal postings", "ledger sums to zero"}
        [line] = report["balances equal postings"]
        assert "agent:1" in line
        assert report["ledger sums to zero"] == ["all balances sum to 1 fen"]
        with raw(settings) as conn:
            conn.execute("UPDATE accounts SET balance = balance - 1 WHERE code = 'agent:1'")
        assert clean(await ledger.verify())


async def test_reservation_corruption_is_reported(settings: Settings, billing: BillingSimulator,
                                                  clock: ManualClock) -> None:
    """R-15: a reserved amount that no pending transfer explains is reported."""
    async with own_ledger(settings, billing, clock) as ledger:
        with raw(settings) as conn:
            conn.execute("UPDATE accounts SET reserved = reserved + 5 WHERE code = 'agent:1'")
        assert breached(await ledger.verify()) == {"reservations equal pending debits"}


async def test_unbalanced_transfer_is_reported(settings: Settings, billing: BillingSimulator,
                                               clock: ManualClock) -> None:
    """R-15: a posting slipped into a transfer makes it (and the books) not sum to zero."""
    async with own_ledger(settings, billing, clock) as ledger:
        with raw(settings) as conn:
            conn.execute("INSERT INTO postings (transfer_id, account_id, amount) "
                         "SELECT 1, id, 7 FROM accounts WHERE code = 'operator:refunds'")
        report = await ledger.verify()
        assert report["transfers sum to zero"] == ["transfer 1 sums to 7 fen"]
        assert "balances equal postings" in breached(report)


@pytest.mark.parametrize("statement, invariant", [
    pytest.param("UPDATE recharges SET status = 'failed' WHERE status = 'succeeded'",
                 "recharges match their transfers", id="recharge-status"),
    pytest.param("UPDATE reversals SET status = 'failed'",
                 "reversals match their transfers", id="reversal-status"),
])
async def test_status_that_contradicts_its_transfer_is_reported(
        settings: Settings, billing: BillingSimulator, clock: ManualClock, statement: str,
        invariant: str) -> None:
    """R-18/R-23: a recharge or reversal whose status disagrees with its transfer is reported."""
    async with own_ledger(settings, billing, clock) as ledger:
        with raw(settings) as conn:
            conn.execute(statement)
        assert breached(await ledger.verify()) == {invariant}


async def test_the_database_itself_refuses_an_overdraft(settings: Settings,
                                                        billing: BillingSimulator,
                                                        clock: ManualClock) -> None:
    """R-15: even outside the ledger, an agent account cannot be made negative (CHECK)."""
    async with own_ledger(settings, billing, clock) as ledger:
        with raw(settings) as conn, pytest.raises(INTEGRITY):
            conn.execute("UPDATE accounts SET balance = -1 WHERE code = 'agent:1'")
        with raw(settings) as conn, pytest.raises(INTEGRITY, match="immutable"):
            conn.execute("UPDATE postings SET amount = amount * 2")
        assert clean(await ledger.verify())


async def test_stale_pending_transfer_is_reported(agent: dict[str, Any], ledger: Ledger,
                                                  clock: ManualClock) -> None:
    """R-15: a reservation older than its timeout (120 s) is reported, then resolved by recover."""
    await ledger.op(recharge.begin, request=RechargeRequest(
            key="stuck", msisdn=AGENT, kind=TargetKind.MOBILE, target="18900001111",
            amount_fen=10_000, tx_password=TX))
    assert clean(await ledger.verify())
    clock.advance(seconds=120)
    assert clean(await ledger.verify())  # exactly at the timeout: not yet stale
    clock.advance(seconds=1)
    report = await ledger.verify()
    assert breached(report) == {"no stale reservation"}
    [line] = report["no stale reservation"]
    assert "(recharge) pending since 2026-11-10T02:00:00" in line
    assert (await ledger.recover())["posted"] == 1
    assert clean(await ledger.verify())
