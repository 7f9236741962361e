"""The session lives in the ledger's database: a restart, even mid-payment, loses nothing."""

from __future__ import annotations

from states_support import AGENT, Rig

from smsmenu.states import steps
from smsmenu.types import Channel, Inbound


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


async def test_a_recharge_pending_at_a_crash_is_settled_by_recover_and_then_shown(rig: Rig) -> None:
    """Billing down at restart: 'processing'; at the next restart recover pays: the receipt."""
    recharge_id = await crash_after_reserving(rig)
    rig.billing.down = True
    await rig.restart()
    assert (await rig.ledger.get_recharge(recharge_id)).status == "pending"
    assert await rig.send(AGENT, "1") == [(AGENT, "充值处理中，请稍候。")]
    rig.billing.down = False
    await rig.restart()
    assert (await rig.ledger.get_recharge(recharge_id)).status == "succeeded"
    summary, = await rig.send(AGENT, "1")
    assert summary[1].startswith("充值成功 手机18012345678 50.00元 佣金1.00元 余额451.00元")
    assert summary[1].endswith("\n空中充值\n1充值\n2异常处理\n3账户管理\n4业务管理")
    assert (await rig.send(AGENT, "1"))[0][1].startswith("充值\n1固定电话")
    breaches = await rig.ledger.verify()
    assert not any(breaches.values()), breaches


async def test_a_recharge_that_failed_while_down_is_shown_with_its_reason(rig: Rig) -> None:
    """The credit failed for good: the next message shows the failure in words, then the menu."""
    recharge_id = await crash_after_reserving(rig)
    rig.billing.fail_next(1)
    await rig.restart()
    assert (await rig.ledger.get_recharge(recharge_id)).status == "failed"
    summary, = await rig.send(AGENT, "1")
    assert summary[1].startswith(f"充值失败 手机18012345678 50.00元：计费系统拒绝 (simulated failure)。"
                                 f"未扣款，可重复充值(单号{recharge_id})。\n空中充值")
    assert (await rig.ledger.agent(AGENT))["balance_fen"] == 50_000


async def test_a_lost_recharge_is_told_in_words_not_codes(rig: Rig) -> None:
    """A failure stored as a code ('timeout') reads as text in the receipt of a repeated command."""
    rig.billing.timeout_next(1)
    first = await rig.send(AGENT, "CZ*2*18012345678*50*123456")
    again = await rig.send(AGENT, "CZ*2*18012345678*50*123456")
    assert first[0][1] == again[0][1] == ("充值失败 手机18012345678 50.00元：计费系统超时。未扣款，"
                                          "可重复充值(单号1)。")
    assert len(await rig.ledger.failed(AGENT)) == 1  # the repeated command is the same recharge
