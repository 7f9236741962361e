"""ledger.store.web_topup: online top-up orders, created then paid or failed."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from ledger import Ledger
from ledger.store import web_topup
from ledger.store.web_topup import Order
from smsmenu.core.clock import iso

pytestmark = pytest.mark.both_engines

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


async def _create(ledger: Ledger, order_id: str, agent_id: int = 4, minutes: int = 0) -> None:
    await ledger.writer.run(partial(web_topup.create, order_id=order_id, agent_id=agent_id,
                                    amount_fen=10_000,
                                    created=NOW + dt.timedelta(minutes=minutes)))


async def test_create_pay_and_fail(ledger: Ledger) -> None:
    """A created order is paid (with the bank's reference) or failed; a paid one stays paid."""
    await _create(ledger, "T1")
    assert await ledger.read(web_topup.by_id("T1")) == Order(
        "T1", 4, 10_000, "created", None, iso(NOW), None)
    await ledger.writer.run(partial(web_topup.mark_paid, order_id="T1", bank_txn="B9", at=NOW))
    await ledger.writer.run(partial(web_topup.mark_failed, order_id="T1"))
    paid = await ledger.writer.run(partial(web_topup.get, order_id="T1"))
    assert paid is not None and (paid.status, paid.bank_txn, paid.paid_at) == ("paid", "B9",
                                                                              iso(NOW))
    await _create(ledger, "T2")
    await ledger.writer.run(partial(web_topup.mark_failed, order_id="T2"))
    failed = await ledger.read(web_topup.by_id("T2"))
    assert failed is not None and failed.status == "failed"
    assert await ledger.read(web_topup.by_id("T3")) is None


async def test_an_agents_ten_newest_orders(ledger: Ledger) -> None:
    """``of_agent`` lists only that agent's orders, newest first, at most ten."""
    for n in range(12):
        await _create(ledger, f"T{n:02d}", minutes=n)
    await _create(ledger, "OTHER", agent_id=5, minutes=30)
    orders = await ledger.read(web_topup.of_agent(4))
    assert [o.order_id for o in orders] == [f"T{n:02d}" for n in range(11, 1, -1)]
