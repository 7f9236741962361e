"""A dialog belongs to the channel it began on: sms, ussd and api never share a session."""

from __future__ import annotations

import sqlite3

import pytest
from states_support import AGENT, Rig

from smsmenu.core.types import Channel

pytestmark = pytest.mark.both_engines

WALK = ["1", "2", "18012345678", "50", "1"]
"""充值 → C网手机 → 18012345678 → 50 yuan → confirm: the SMS dialog waits for the password."""


async def test_another_channel_cannot_retarget_a_dialog_waiting_for_the_password(rig: Rig) -> None:
    """Issue 10 (critical): keys sent over the API as the agent move only an API dialog; the
    agent's password over SMS pays what the agent confirmed, to the number it typed."""
    for text in WALK:
        await rig.handle(AGENT, text)
    for text in ["0", "0", "0", "2", "17700000001", "1000", "1"]:
        await rig.handle(AGENT, text, channel=Channel.HTTP)
    paid = await rig.handle(AGENT, "123456")
    assert paid.replies[0].text.startswith("充值成功 手机18012345678 50.00元")
    recharges = await rig.ledger.records(AGENT)
    assert [(r.target, r.amount, r.channel) for r in recharges] == [("18012345678", 5_000, "sms")]


async def test_each_channel_keeps_its_own_place_in_the_menu(rig: Rig) -> None:
    """A USSD dialog and an SMS dialog of the same agent go on side by side."""
    await rig.handle(AGENT, "1")
    ussd = await rig.handle(AGENT, "3", channel=Channel.USSD)
    assert ussd.replies[0].text.startswith("账户管理")
    sms = await rig.handle(AGENT, "2")
    assert sms.replies[0].text.startswith("请输入C网手机号码")


async def test_a_recharge_over_ussd_is_recorded_as_ussd(rig: Rig) -> None:
    """The recharge's channel is the dialog's (it used to be recorded as SMS whatever it was)."""
    for text in [*WALK, "123456"]:
        await rig.handle(AGENT, text, channel=Channel.USSD)
    assert [r.channel for r in await rig.ledger.records(AGENT)] == ["ussd"]


@pytest.mark.sqlite_only
async def test_a_session_from_before_channels_continues_as_the_sms_dialog(rig: Rig) -> None:
    """Upgrading keeps an agent's place: the one-per-agent session becomes its SMS session."""
    for text in WALK[:3]:
        await rig.handle(AGENT, text)
    with sqlite3.connect(rig.settings.ledger.db) as conn:
        conn.execute("INSERT INTO sessions SELECT msisdn, state, data, dialog, updated_at "
                     "FROM menu_sessions")
        conn.execute("DELETE FROM menu_sessions")
    conn.close()
    await rig.restart()
    amount = await rig.handle(AGENT, "50")
    assert amount.replies[0].text.startswith("请核对")


async def test_a_stranger_gets_two_replies_an_hour_no_more(rig: Rig) -> None:
    """Issue 10: no SMS pumping: a number that is no agent is told where to apply twice an
    hour; further messages are taken and not answered; an hour later it is answered again."""
    stranger = "18900009999"
    answered = [bool((await rig.handle(stranger, "1")).replies) for _ in range(5)]
    assert answered == [True, True, False, False, False]
    rig.clock.advance(minutes=61)
    assert (await rig.handle(stranger, "1")).replies[0].text.startswith("本号码未开通空中充值")
    assert (await rig.handle(AGENT, "1")).replies  # agents are never limited


@pytest.mark.parametrize(("text", "answer"), [
    pytest.param("CF*\U00010a40*123456", "CF*单号*交易密码", id="kharosthi-digit-id"),
    pytest.param("CF*①*123456", "找不到充值记录1", id="circled-digit-read-as-1"),
])
async def test_odd_digits_in_a_command_get_an_answer_not_a_crash(rig: Rig, text: str,
                                                                answer: str) -> None:
    """Issue 10: a digit int() refuses gets the command's usage; one NFKC reads is read."""
    reply, = await rig.send(AGENT, text)
    assert answer in reply[1]


async def test_odd_digits_in_the_retry_list_are_a_wrong_key(rig: Rig) -> None:
    """A non-ASCII digit on the failed-recharges list is answered like any wrong key."""
    rig.billing.fail_next(1)
    await rig.send(AGENT, "CZ*2*18012345678*50*123456")
    await rig.send(AGENT, "2")
    await rig.send(AGENT, "1")
    reply, = await rig.send(AGENT, "\U00010a40")
    assert reply[1].startswith("输入有误")
