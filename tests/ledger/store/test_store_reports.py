"""The read path behind the web portal's reports and pages, on both engines (same rows, same types)."""

from __future__ import annotations

import pytest
from ledger_support import AGENT, CUSTOMER, recharge

from ledger import Ledger, reports
from ledger.api import AgentInfo
from ledger.store import health, queries

pytestmark = pytest.mark.both_engines
START, END = "2026-11-10T00:00:00", "2026-11-11T00:00:00"


async def test_reports_read_the_same_figures_on_either_engine(agent: AgentInfo,
                                                              ledger: Ledger) -> None:
    """Day totals, the series, the record count, deposits, settlement (numbered parameters),
    recent agents, failed and by-target lists, health: plain ints and strings, right sums."""
    agent_id = agent.agent_id
    await recharge(ledger, "r1", 10_000)
    await recharge(ledger, "r2", 5_000)
    assert await ledger.read(reports.totals(agent_id, START, END)) == {
        "count": 2, "amount_fen": 15_000, "commission_fen": 300}
    series = await ledger.read(reports.series(agent_id, START, END))
    assert [(a, c) for _, a, c in series] == [(10_000, 200), (5_000, 100)]
    assert await ledger.read(reports.count_records(agent_id, START, END)) == 2
    deposit, = await ledger.read(reports.deposits(agent_id))
    assert (deposit["channel"], deposit["amount_fen"]) == ("counter", 50_000)
    row, = await ledger.read(reports.settlement(START, END))
    assert (row["msisdn"], row["counter_fen"], row["recharges"], row["recharged_fen"],
            row["commission_fen"], row["reversals"]) == (AGENT, 50_000, 2, 15_000, 300, 0)
    assert all(type(v) is int for k, v in row.items() if k.endswith(("_fen", "s")))
    recent, = await ledger.read(reports.recent_agents())
    assert recent["balance_fen"] == 50_000 - 14_700
    assert [r.amount for r in await ledger.read(queries.by_target(CUSTOMER))] == [5_000, 10_000]
    assert await ledger.read(queries.failed(agent_id)) == []
    assert await ledger.read(health.agent_count()) == 1
