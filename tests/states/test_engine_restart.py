"""The session lives in the ledger's database: a restart, even mid-payment, loses nothing."""

from __future__ import annotations

import pytest
from states_support import AGENT, Rig

from ledger.store.queries import Query
from smsmenu.core.refno import quote
from smsmenu.core.types import Channel, Inbound
from smsmenu.states import steps

pytestmark = pytest.mark.both_engines


async def test_the_dialog_survives_closing_the_ledger_and_a_new_engine(rig: Rig) -> None:
    """Close the ledger, open a new one on the same file with a new engine: the dialog goes on."""
    for text in ["1", "4", "02712345678", "30"]:
        await rig.send(AGENT, text)
    old_engine, old_ledger = rig.engine, rig.ledger
    await rig.restart()
    assert rig.engine is not old_engine and rig.ledger is not old_ledger
    assert (await rig.send(AGENT, "18012345679"))[0][1].startswith("请核对\n宽带02712345678")
    await rig.restart()
    await rig.send(AGENT, "1")
    await rig.restart()
    receipt, notice = await rig.send(AGENT, "123456")
    assert receipt[1].startswith("充值成功 宽带02712345678 30.00元 佣金0.60元 余额470.60元")
    assert notice[0] == "18012345679"


async def crash_after_reserving(rig: Rig) -> int:
    """Walk to the password and run only the step's transaction, as a crash before billing would."""
    for text in ["1", "2", "18012345678", "50", "1"]:
        await rig.send(AGENT, text)
    msg = Inbound(AGENT, "123456", Channel.SMS, rig.clock.now(), "sms:crash")
    out = await rig.ledger.op(steps.step, machine=rig.engine.machine, msg=msg,
                              idle=rig.engine.idle_timeout, direct="")
    assert out.pending is not None and out.pending.status == "pending" and not out.replies
    return out.pending.id


async def outbox(rig: Rig, kind: str) -> list[str]:
    """The texts queued for the agent of one kind (receipts the follow-up sent by SMS)."""
    rows = await rig.ledger.read(Query("SELECT text FROM outbox WHERE to_msisdn = ? AND kind = ? "
                                       "ORDER BY id", (AGENT, kind), list))
    return [row[0] for row in rows]


async def test_after_a_crash_the_next_message_runs_while_billing_is_unknown(rig: Rig) -> None:
    """Issue 9 defect 3: with the recharge still pending, a balance query is run (not dropped),
    with a note that the result follows; recover pays later and the receipt goes by SMS."""
    recharge_id = await crash_after_reserving(rig)
    rig.billing.down = True
    await rig.restart()
    assert (await rig.ledger.get_recharge(recharge_id)).status == "pending"
    assert await outbox(rig, "recharge_pending")  # told once that the result follows
    reply, = await rig.send(AGENT, "YE*123456")
    assert reply == (AGENT, f"单号{quote(recharge_id)}的充值结果待确认，将以短信通知。\n"
                            "充值账户余额500.00元，可用451.00元。")
    rig.billing.down = False
    await rig.restart()
    assert (await rig.ledger.get_recharge(recharge_id)).status == "succeeded"
    receipt, = await outbox(rig, "receipt")
    assert receipt.startswith("充值成功 手机18012345678 50.00元 佣金1.00元 余额451.00元")
    assert (await rig.send(AGENT, "1"))[0][1].startswith("充值\n1固定电话")
    breaches = await rig.ledger.verify()
    assert not any(breaches.values()), breaches


async def test_after_a_crash_the_next_key_press_runs_from_the_main_menu(rig: Rig) -> None:
    """The credit failed for good at recovery: the failure went by SMS; the next key runs."""
    recharge_id = await crash_after_reserving(rig)
    rig.billing.fail_next(1)
    await rig.restart()
    assert (await rig.ledger.get_recharge(recharge_id)).status == "failed"
    failure, = await outbox(rig, "recharge_failed")
    assert failure.startswith("充值失败 手机18012345678 50.00元：计费系统拒绝")
    assert (await rig.send(AGENT, "1"))[0][1] == (
        f"单号{quote(recharge_id)}的充值已有结果，已短信通知。\n充值\n1固定电话\n2C网手机\n3小灵通\n4宽带\n0返回")
    assert (await rig.ledger.agent(AGENT)).balance_fen == 50_000


async def test_a_redelivered_command_resends_an_unknown_credit_and_pays_once(rig: Rig) -> None:
    """A repeat of a command whose credit timed out re-sends it under the same reference: the
    customer is credited once and the agent charged once."""
    rig.billing.timeout_next(1)
    first, = await rig.send(AGENT, "CZ*2*18012345678*50*123456")
    assert first[1].startswith("充值待确认 手机18012345678 50.00元，已暂扣49.00元")
    again = await rig.send(AGENT, "CZ*2*18012345678*50*123456")
    assert again[0][1].startswith("充值成功 手机18012345678 50.00元 佣金1.00元 余额451.00元")
    account = rig.billing.account("mobile", "18012345678")
    assert account is not None and account.balance_fen == 5_000
    assert (await rig.ledger.agent(AGENT)).balance_fen == 45_100


async def test_the_message_that_started_it_sent_again_gets_the_outcome(rig: Rig) -> None:
    """After a crash, the password message re-sent under its own key (an HTTP client's retry)
    gets the recharge's receipt, not 'invalid input' at the main menu."""
    recharge_id = await crash_after_reserving(rig)
    await rig.restart()
    again = await rig.handle(AGENT, "123456", key="sms:crash")
    assert again.replies[0].text.startswith("充值成功 手机18012345678 50.00元")
    assert (await rig.ledger.get_recharge(recharge_id)).status == "succeeded"


async def test_another_message_after_a_settled_crash_runs_with_a_short_note(rig: Rig) -> None:
    """Any other message runs from the main menu, with one line saying the result went by SMS."""
    recharge_id = await crash_after_reserving(rig)
    await rig.restart()
    reply, = await rig.send(AGENT, "135790")
    assert reply[1] == f"单号{quote(recharge_id)}的充值已有结果，已短信通知。\n" + (
        "空中充值\n1充值\n2异常处理\n3账户管理\n4业务管理")
