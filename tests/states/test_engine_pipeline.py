"""The engine as the one inbound pipeline: one bounded turn per number, replies by the channel rule."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from states_support import AGENT, Rig

from smsmenu.core.types import Channel, Inbound, Reply
from smsmenu.gateway.base import SenderBusy
from smsmenu.states.engine import PER_SENDER, Engine

OTHER = "18900000009"


def gate_steps(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, list[Any]]:
    """Hold every step at a gate once it entered its transaction; record who entered, in order."""
    gate, entered = asyncio.Event(), []
    run = rig.ledger.transaction

    async def held(step: Any) -> Any:
        msg: Inbound | None = step.keywords.get("msg")
        if msg is not None:
            entered.append((msg.msisdn, msg.channel))
            await gate.wait()
        return await run(step)

    monkeypatch.setattr(rig.ledger, "transaction", held)
    return gate, entered


async def test_an_agents_sms_and_ussd_never_step_at_once(rig: Rig,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The turn is per number, not per (number, channel): the USSD message waits for the SMS
    one (they share the balance, the lockout, the duplicate window) while another number's
    message runs; each channel keeps its own menu session."""
    await rig.open_agent(OTHER)
    gate, entered = gate_steps(rig, monkeypatch)
    sms = asyncio.create_task(rig.handle(AGENT, "1"))
    ussd = asyncio.create_task(rig.handle(AGENT, "1", channel=Channel.USSD))
    other = asyncio.create_task(rig.handle(OTHER, "1"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert entered == [(AGENT, Channel.SMS), (OTHER, Channel.SMS)]
    gate.set()
    first, second, _ = await asyncio.gather(sms, ussd, other)
    assert entered[2:] == [(AGENT, Channel.USSD)]
    # both saw the main menu's "1" (充值): two sessions, one per channel, each at its start
    assert first.replies[0].text.split("\n")[0] == second.replies[0].text.split("\n")[0] == "充值"
    assert len(rig.engine.turns) == 0


async def test_a_numbers_waiting_messages_are_bounded_over_all_channels(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond ``PER_SENDER`` messages of one number held (SMS, USSD and HTTP together) the next
    is refused at once (``SenderBusy``); the held ones all go through, in order; another number
    is not affected."""
    gate, entered = gate_steps(rig, monkeypatch)
    channels = [Channel.SMS, Channel.USSD, Channel.HTTP]
    held = [asyncio.create_task(rig.handle(AGENT, "00", channel=channels[n % 3]))
            for n in range(PER_SENDER)]
    await asyncio.sleep(0)
    with pytest.raises(SenderBusy):
        await rig.handle(AGENT, "00", channel=Channel.SMS)
    stranger = asyncio.create_task(rig.handle(OTHER, "00"))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*held, stranger)
    assert [channel for number, channel in entered if number == AGENT] == \
        [channels[n % 3] for n in range(PER_SENDER)]
    assert len(rig.engine.turns) == 0


@pytest.mark.parametrize(
    ("channel", "queued"),
    [
        pytest.param(Channel.SMS, 1, id="sms-reply-by-outbox"),
        pytest.param(Channel.USSD, 0, id="ussd-screen-in-answer"),
        pytest.param(Channel.HTTP, 0, id="http-all-in-answer"),
    ],
)
async def test_replies_the_channel_does_not_deliver_go_to_the_outbox_drain(
        rig: Rig, channel: Channel, queued: int) -> None:
    """``on_queued`` gets exactly the committed replies the channel leaves to the outbox."""
    sent: list[Reply] = []
    rig.engine = Engine(rig.ledger, on_queued=sent.extend)
    out = await rig.handle(AGENT, "1", channel=channel)
    assert out.replies and out.replies[0].outbox_id is not None
    assert sent == out.replies[:queued]


def test_the_engine_cleans_a_transports_sender(rig: Rig) -> None:
    """``sender``: the number plan's country codes off, no phone number gives None."""
    assert rig.engine.sender("+86" + AGENT) == rig.engine.sender("0086" + AGENT) == AGENT
    assert rig.engine.sender("CTELECOM") is None
