"""Two instances on one database: a money step being billed on one is not taken for a crash's
leftover on the other (issue 12)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from states_support import AGENT, TX, Rig

from smsmenu.core.refno import quote
from smsmenu.core.types import Channel, Inbound
from smsmenu.gateway.base import SenderBusy
from smsmenu.states import steps
from smsmenu.states.engine import Engine

CUSTOMER = "18012345678"
HOLD = dt.timedelta(seconds=15)


def engines(rig: Rig) -> tuple[Engine, Engine]:
    """Instances ``a`` and ``b`` of the server, on the rig's one ledger."""
    return (Engine(rig.ledger, instance="a", billing_hold=HOLD),
            Engine(rig.ledger, instance="b", billing_hold=HOLD))


async def say(engine: Engine, rig: Rig, text: str, key: str) -> str:
    out = await engine.handle(Inbound(AGENT, text, Channel.SMS, rig.clock.now(), key))
    return out.replies[0].text if out.replies else ""


async def to_password(engine: Engine, rig: Rig) -> None:
    for n, text in enumerate(["1", "2", CUSTOMER, "50", "1"]):
        await say(engine, rig, text, f"walk-{n}")


async def test_the_next_key_on_another_instance_gets_the_processing_screen(rig: Rig) -> None:
    """While ``a`` waits for billing, ``b`` answers the agent's next key with the processing
    screen and changes nothing; once ``a`` recorded the outcome, ``b`` runs the menu."""
    a, b = engines(rig)
    rig.billing.latency = 0.3
    await to_password(a, rig)
    paying = asyncio.create_task(say(a, rig, TX, "pw"))
    await asyncio.sleep(0.1)  # a's step committed (state billing), billing not answered yet
    assert await say(b, rig, "1", "other-1") == "充值处理中，请稍候。"
    assert (await paying).startswith("充值成功 手机18012345678 50.00元")
    assert (await say(b, rig, "1", "other-2")).startswith("充值\n1固定电话")
    assert (await rig.ledger.agent(AGENT)).balance_fen == 45_100


async def test_the_message_being_billed_redelivered_elsewhere_is_not_answered(rig: Rig) -> None:
    """The password message itself, redelivered to ``b`` while ``a`` bills it, is refused as
    busy (not acknowledged: it comes back), then gets the receipt; paid once."""
    a, b = engines(rig)
    rig.billing.latency = 0.3
    await to_password(a, rig)
    paying = asyncio.create_task(say(a, rig, TX, "pw"))
    await asyncio.sleep(0.1)
    with pytest.raises(SenderBusy):
        await say(b, rig, TX, "pw")
    receipt = await paying
    assert await say(b, rig, TX, "pw") == receipt
    assert (await rig.ledger.agent(AGENT)).balance_fen == 45_100
    account = rig.billing.account("mobile", CUSTOMER)
    assert account is not None and account.balance_fen == 5_000


@pytest.mark.parametrize("later, first_line", [
    pytest.param(dt.timedelta(seconds=5), "充值处理中，请稍候。", id="within-the-hold"),
    pytest.param(HOLD + dt.timedelta(seconds=1), "单号{ref}的充值结果待确认，将以短信通知。",
                 id="after-the-hold"),
])
async def test_an_instance_that_died_mid_billing_is_taken_over_after_its_hold(
        rig: Rig, later: dt.timedelta, first_line: str) -> None:
    """``a`` reserved and died before billing answered: within its hold ``b`` shows the
    processing screen; after it, the session is a crash's leftover (note, then the menu)."""
    a, b = engines(rig)
    await to_password(a, rig)
    msg = Inbound(AGENT, TX, Channel.SMS, rig.clock.now(), "pw")
    out = await rig.ledger.transaction(lambda conn, env, now: steps.step(
        conn, env, now, machine=a.machine, msg=msg, idle=a.idle_timeout, direct="",
        instance="a", hold=HOLD))
    assert out.pending is not None and out.pending.status == "pending"
    rig.clock.advance(seconds=later.total_seconds())
    rig.billing.down = True
    assert (await say(b, rig, "1", "after")).split("\n")[0] == first_line.format(ref=quote(1))
