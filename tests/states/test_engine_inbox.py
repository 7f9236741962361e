"""The answer to a message is kept under its key only when the key comes again with a redelivery."""

from __future__ import annotations

import pytest
from states_support import AGENT, Rig

from ledger.store.queries import scalar
from smsmenu.core.types import Channel, Inbound

pytestmark = pytest.mark.both_engines


@pytest.mark.parametrize("durable", [pytest.param(True, id="carrier-key-kept"),
                                     pytest.param(False, id="made-up-key-not-kept")])
async def test_answers_are_kept_for_durable_keys_only(rig: Rig, durable: bool) -> None:
    """A durable key's answer is stored (a redelivery gets it again, changing nothing); a key the
    transport made up for one delivery stores nothing, and the same key again is a new message."""
    msg = Inbound(AGENT, "1", Channel.SMS, rig.clock.now(), "k-1", durable_key=durable)
    first = await rig.engine.handle(msg)
    kept = await rig.ledger.read(scalar("SELECT COUNT(*) FROM inbox WHERE key = 'k-1'"))
    assert kept == (1 if durable else 0)
    again = await rig.engine.handle(msg)
    if durable:
        assert [r.text for r in again.replies] == [r.text for r in first.replies]
    else:  # stepped again: "1" in the recharge menu picks its first item
        assert [r.text for r in again.replies] != [r.text for r in first.replies]
