"""The inbox of answered message keys is pruned after its retention; recent keys stay."""

from __future__ import annotations

import datetime as dt

from ledger import Ledger
from smsmenu.core.clock import ManualClock
from smsmenu.core.types import Channel, Inbound
from smsmenu.states.engine import Engine
from tests.conftest import AGENT


async def test_old_answers_are_pruned_and_recent_ones_kept(ledger: Ledger, clock: ManualClock,
                                                          agent: dict[str, object]) -> None:
    """Keys older than the retention are forgotten; a key inside it still answers the same."""
    engine = Engine(ledger)
    first = await engine.handle(Inbound(AGENT, "1", Channel.SMS, clock.now(), "old"))
    clock.advance(hours=47)
    recent = await engine.handle(Inbound(AGENT, "00", Channel.SMS, clock.now(), "recent"))
    clock.advance(hours=2)
    assert await engine.prune(dt.timedelta(hours=48)) == 1
    again = await engine.handle(Inbound(AGENT, "00", Channel.SMS, clock.now(), "recent"))
    assert again.replies == recent.replies and first.replies
    assert await engine.prune(dt.timedelta(hours=48)) == 0
