"""The required concurrency test: 200 recharges at once against a deposit that covers exactly 37."""

from __future__ import annotations

import asyncio

import pytest
from ledger_support import AGENT, MGMT, TX, Sql, clean, recharge

from ledger import Ledger
from ledger.api import RechargeResult
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import InsufficientFunds
from smsmenu.core.settings import Settings
from smsmenu.states.notices import SmsNotices

pytestmark = pytest.mark.both_engines


@pytest.mark.parametrize("rate_ppm, amount_fen, latency", [
    pytest.param(0, 2_000, 0.0, id="rate-0-20-yuan"),
    pytest.param(50_000, 20_000, 0.0, id="rate-5%-200-yuan"),
    pytest.param(0, 2_000, 0.001, id="rate-0-20-yuan-slow-boss"),
])
async def test_200_concurrent_recharges_exactly_37_succeed(ledger: Ledger, billing: BillingSimulator,
                                                           sql: Sql, rate_ppm: int,
                                                           amount_fen: int, latency: float) -> None:
    """R-15: 200 concurrent recharges on a deposit covering 37: 37 succeed, 163 are refused, 0 left."""
    charge = amount_fen - amount_fen * rate_ppm // 1_000_000
    deposit = 37 * charge
    assert deposit >= 50_000 and deposit % 1_000 == 0  # a valid counter deposit
    await ledger.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT,
                            rate_ppm=rate_ppm)
    await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=deposit, channel="counter")
    billing.latency = latency
    results = await asyncio.gather(
        *[recharge(ledger, f"burst-{i}", amount_fen, target=f"1890000{i:04d}")
          for i in range(200)],
        return_exceptions=True)
    succeeded = [r for r in results if isinstance(r, RechargeResult)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(succeeded) == 37
    assert len(refused) == 163
    assert {r.status for r in succeeded} == {"succeeded"}
    assert all(e.rule == "R-15" for e in refused)
    view = await ledger.agent(AGENT)
    assert (view.balance_fen, view.reserved_fen) == (0, 0)
    assert sum(a.balance_fen for a in billing.books.accounts.values()) == 37 * amount_fen
    assert await sql("SELECT status, COUNT(*) FROM recharges GROUP BY status") == [
        ("succeeded", 37)]
    assert clean(await ledger.verify())


async def test_200_recharges_over_two_instances_on_postgres_exactly_37_succeed(
        settings: Settings, billing: BillingSimulator, clock: ManualClock, engine: str) -> None:
    """R-15 across processes: two ledgers (two writers, two connections: two instances) on one
    PostgreSQL database share the 200 recharges; the deposit covers exactly 37, no more pass."""
    if engine != "postgres":
        pytest.skip("several instances share a PostgreSQL database, not a SQLite file")
    own = settings
    async with await Ledger.open(own, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as one, \
            await Ledger.open(own, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as two:
        await one.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT,
                             rate_ppm=0)
        await two.deposit(key="d1", msisdn=AGENT, amount_fen=37 * 2_000, channel="counter")
        results = await asyncio.gather(
            *[recharge((one, two)[i % 2], f"burst-{i}", 2_000, target=f"1890000{i:04d}")
              for i in range(200)], return_exceptions=True)
        succeeded = [r for r in results if isinstance(r, RechargeResult)]
        refused = [r for r in results if isinstance(r, InsufficientFunds)]
        assert (len(succeeded), len(refused)) == (37, 163)
        view = await one.agent(AGENT)
        assert (view.balance_fen, view.reserved_fen) == (0, 0)
        assert sum(a.balance_fen for a in billing.books.accounts.values()) == 37 * 2_000
        assert clean(await two.verify())


async def test_one_key_sent_to_two_instances_at_once_moves_money_once(
        settings: Settings, billing: BillingSimulator, clock: ManualClock, engine: str) -> None:
    """R-15 idempotency across instances: the same deposit and recharge keys reach two ledgers
    on one PostgreSQL at once (a redelivery to another bind); one unique key wins, the other
    instance reruns its operation and answers the same result; the money moved once."""
    if engine != "postgres":
        pytest.skip("several instances share a PostgreSQL database, not a SQLite file")
    async with await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as one, \
            await Ledger.open(settings, billing, clock, notifier=SmsNotices(), secret=b"k" * 32) as two:
        await one.open_agent(msisdn=AGENT, name="小王", tx_password=TX, mgmt_password=MGMT,
                             rate_ppm=0)
        deposits = await asyncio.gather(*[
            led.deposit(key=f"d{i // 2}", msisdn=AGENT, amount_fen=50_000, channel="counter")
            for i, led in enumerate([one, two] * 10)])
        assert len({d.transfer_id for d in deposits}) == 10
        results = await asyncio.gather(*[recharge(led, f"same-{i // 2}", 2_000)
                                         for i, led in enumerate([one, two] * 20)])
        assert len({r.recharge_id for r in results}) == 20
        view = await one.agent(AGENT)
        assert view.balance_fen == 10 * 50_000 - 20 * 2_000
        assert clean(await two.verify())
