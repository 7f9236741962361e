"""The testers' read-only views of the books (load generator, chaos harness) read what the ledger holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_support import AGENT, CUSTOMER, recharge

from ledger import Ledger
from ledger.store.inspect import AgentMoney, open_agent_recharges, read_books
from smsmenu.core.settings import Settings

pytestmark = pytest.mark.both_engines


async def test_read_books_sees_recharges_money_and_totals(agent: dict[str, object], ledger: Ledger,
                                                          settings: Settings) -> None:
    """A posted recharge appears with its commission; the agent's deposit and balance add up."""
    await recharge(ledger, "inspect-1", 10_000)
    books = read_books(settings.ledger.db if "://" in settings.ledger.db
                       else Path(settings.ledger.db))
    [row] = books.recharges
    assert (row.agent, row.target, row.status, row.amount_fen) == (AGENT, CUSTOMER, "succeeded",
                                                                   10_000)
    assert 0 < row.commission_fen < row.amount_fen
    assert books.agents == [AgentMoney(AGENT, 50_000, 50_000 - 10_000 + row.commission_fen)]
    assert books.pending_transfers == 0
    assert books.settlement_fen == 10_000
    assert await ledger.read(open_agent_recharges(AGENT)) == books.recharges
    assert await ledger.read(open_agent_recharges("18900009999")) == []
