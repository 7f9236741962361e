"""The audit row of each operator effect commits in the effect's own transaction: one row per
effect, none for a replay (the same idempotency key) and none when the effect rolls back."""

from __future__ import annotations

import pytest
from ledger_support import AGENT, Sql

from ledger import Ledger
from ledger.audit import Actor
from smsmenu.core.errors import CloseRefused

CLERK = Actor(7, "wang", "clerk")
pytestmark = pytest.mark.usefixtures("agent")


async def _rows(sql: Sql) -> list[tuple[object, ...]]:
    return await sql("SELECT operator_id, operator, role, action, agent_id, amount_fen, outcome "
                     "FROM web_audit WHERE role = 'clerk' ORDER BY id")


async def test_a_replayed_deposit_writes_no_second_row(ledger: Ledger, sql: Sql) -> None:
    """A browser refresh (the same key) returns the first deposit and adds no audit row."""
    for _ in range(2):
        await ledger.deposit(key="d1", msisdn=AGENT, amount_fen=60_000, channel="counter",
                             actor=CLERK)
    assert await _rows(sql) == [(7, "wang", "clerk", "deposit", 1, 60_000, "ok")]


async def test_a_refused_effect_leaves_no_row(ledger: Ledger, sql: Sql) -> None:
    """R-6: a close refused (10 yuan or more) rolls back, its audit row with it."""
    with pytest.raises(CloseRefused):
        await ledger.close_agent(key="c1", msisdn=AGENT, actor=CLERK)
    assert await _rows(sql) == []


async def test_each_switch_is_one_row(ledger: Ledger, sql: Sql) -> None:
    """Suspend, unlock and a rate in one call: three effects, three rows; the rate row names
    the rate before and after."""
    await ledger.set_flag(msisdn=AGENT, suspended=True, unlock=True, rate_ppm=30_000,
                          actor=CLERK)
    assert [row[3] for row in await _rows(sql)] == ["suspend", "unlock", "rate"]
    (detail,) = await sql("SELECT detail FROM web_audit WHERE action = 'rate'")
    assert detail == ('{"rate_ppm": 30000, "was_ppm": 20000}',)
