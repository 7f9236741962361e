"""One-way money: deposits only buy recharges (R-10); only a reversal undoes a recharge (R-19)."""

from __future__ import annotations

import pytest
from ledger_support import AGENT, CUSTOMER, available, recharge

from ledger import Ledger
from ledger.api import RechargeStatus
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import InputError
from smsmenu.core.types import TargetKind

pytestmark = [pytest.mark.usefixtures("agent"), pytest.mark.both_engines]

UNDO_WORDS = ("refund", "void", "undo", "withdraw", "chargeback")


def boss_balance(billing: BillingSimulator) -> int:
    """The customer's balance at BOSS, read afresh."""
    account = billing.account(TargetKind.MOBILE, CUSTOMER)
    assert account is not None
    return account.balance_fen


async def test_deposit_credits_its_amount_and_never_expires(ledger: Ledger, clock: ManualClock) -> None:
    """R-10: a deposit adds exactly its amount (no discount, no bonus) and is whole a year later."""
    before = await available(ledger)
    done = await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=100_000, channel="counter")
    assert done.balance_fen == before + 100_000
    clock.advance(days=400)
    assert await available(ledger) == before + 100_000


@pytest.mark.parametrize("channel", ["card", "voucher", "promotion"])
async def test_deposit_only_through_the_counter_or_online(ledger: Ledger, channel: str) -> None:
    """R-10: a deposit by recharge card (or any channel but counter and online) is refused."""
    before = await available(ledger)
    with pytest.raises(InputError):
        await ledger.deposit(key=f"d-{channel}", msisdn=AGENT, amount_fen=100_000, channel=channel)
    assert await available(ledger) == before


async def test_a_recharge_has_no_undo_but_a_reversal(ledger: Ledger, billing: BillingSimulator) -> None:
    """R-19: no refund of a completed recharge; ``cancel`` (pending only) leaves it as it was."""
    done = await recharge(ledger, "r1")
    assert done.status is RechargeStatus.SUCCEEDED
    paid, left = boss_balance(billing), await available(ledger)
    names = [name for name in dir(ledger) if not name.startswith("_")]
    assert [name for name in names if any(word in name.lower() for word in UNDO_WORDS)] == []
    again = await ledger.cancel(done.recharge_id, operator="hall")
    assert again.status is RechargeStatus.SUCCEEDED
    assert (boss_balance(billing), await available(ledger)) == (paid, left)
    assert callable(ledger.reverse)
