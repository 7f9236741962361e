"""A recharge records the channel its dialog or one-line command really came over."""

from __future__ import annotations

import pytest
from states_support import AGENT, Rig

from ledger.store.queries import Query
from smsmenu.core.types import Channel

pytestmark = pytest.mark.both_engines

WALK = ["1", "2", "18012345678", "50", "1", "123456"]
"""充值 → C网手机 → 18012345678 → 50 yuan → confirm → the transaction password."""


async def channels(rig: Rig) -> list[str]:
    rows = await rig.ledger.read(Query("SELECT channel FROM recharges ORDER BY id", (), list))
    return [row[0] for row in rows]


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.USSD, Channel.HTTP])
async def test_a_menu_dialog_records_its_own_channel(rig: Rig, channel: Channel) -> None:
    """A dialog walked over USSD (or the HTTP API) is recorded as ussd (http), not as sms."""
    for text in WALK:
        await rig.handle(AGENT, text, channel=channel)
    assert await channels(rig) == [channel.value]


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.USSD])
async def test_a_one_line_command_records_its_own_channel(rig: Rig, channel: Channel) -> None:
    """``CZ*2*number*amount*password`` records the channel it came over, like the dialog."""
    await rig.handle(AGENT, "CZ*2*18012345678*50*123456", channel=channel)
    assert await channels(rig) == [channel.value]
