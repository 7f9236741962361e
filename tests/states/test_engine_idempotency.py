"""A redelivered message changes nothing: the menu advances once and money moves once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from states_support import AGENT, Rig

from smsmenu.core.clock import ManualClock
from smsmenu.states.steps import Outcome

pytestmark = pytest.mark.both_engines

WALK = ["1", "2", "18012345678", "50", "1"]
"""充值 → C网手机 → number → 50 yuan → confirm: the password screen comes next."""


async def state(rig: Rig) -> tuple[str, dict[str, Any]]:
    row = await rig.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT state, data FROM menu_sessions WHERE msisdn = ? AND channel = 'sms'", (AGENT,)).fetchone())
    return row[0], json.loads(row[1])


async def counts(rig: Rig) -> tuple[int, int, int]:
    """(recharges, outbox rows, agent balance in fen)."""
    recharges, outbox = await rig.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT (SELECT COUNT(*) FROM recharges), (SELECT COUNT(*) FROM outbox)").fetchone())
    return recharges, outbox, (await rig.ledger.agent(AGENT)).balance_fen


def texts(out: Outcome) -> list[tuple[str, str, int | None]]:
    return [(r.to, r.text, r.outbox_id) for r in out.replies]


async def test_a_redelivered_key_press_returns_the_same_reply_and_advances_nothing(rig: Rig) -> None:
    """The same key twice: the same screen (same outbox row), the session one step further only."""
    first = await rig.handle(AGENT, "1", key="sms:1")
    before = await counts(rig)
    again = await rig.handle(AGENT, "1", key="sms:1")
    assert texts(again) == texts(first) and await counts(rig) == before
    assert (await state(rig))[0] == "kind"
    assert "C网手机" in (await rig.handle(AGENT, "2", key="sms:2")).replies[0].text


async def test_a_late_redelivery_does_not_move_the_session_back(rig: Rig) -> None:
    """An old key arriving after newer messages gets its old answer; the session stays put."""
    for n, text in enumerate(WALK[:3]):
        await rig.handle(AGENT, text, key=f"sms:{n}")
    late = await rig.handle(AGENT, WALK[0], key="sms:0")
    assert late.replies[0].text.startswith("充值\n1固定电话")
    assert await state(rig) == ("amount", {"kind": "mobile", "target": "18012345678"})


async def test_a_redelivered_password_charges_once(rig: Rig) -> None:
    """The password message redelivered: the same receipt and notice, one recharge, one charge."""
    for text in WALK:
        await rig.send(AGENT, text)
    paid = await rig.handle(AGENT, "123456", key="sms:pw")
    assert paid.final and "充值成功" in paid.replies[0].text and len(paid.replies) == 2
    after = await counts(rig)
    assert after[0] == 1 and after[2] == 50_000 - 4_900
    again = await rig.handle(AGENT, "123456", key="sms:pw")
    assert texts(again) == texts(paid) and await counts(rig) == after
    customer = rig.billing.account("mobile", "18012345678")
    assert customer is not None and customer.balance_fen == 5_000


async def test_the_password_sent_again_under_a_new_key_is_a_key_press_at_the_main_menu(
        rig: Rig) -> None:
    """After success the dialog is over (its key is spent): a second send is help, not a payment."""
    for text in WALK:
        await rig.send(AGENT, text)
    await rig.handle(AGENT, "123456", key="sms:a")
    after = await counts(rig)
    out = await rig.handle(AGENT, "123456", key="sms:b")
    assert out.replies[0].text.startswith("输入有误。0返回 00主菜单\n空中充值")
    assert (await counts(rig))[0::2] == after[0::2]


async def test_a_redelivered_retry_password_completes_the_failed_recharge_once(rig: Rig) -> None:
    """重复充值: the password redelivered after the retry succeeded pays nothing more (R-18)."""
    rig.billing.fail_next(1)
    for text in [*WALK, "123456", "2", "1", "1"]:
        await rig.send(AGENT, text)
    paid = await rig.handle(AGENT, "123456", key="sms:retry")
    assert "充值成功" in paid.replies[0].text
    after = await counts(rig)
    again = await rig.handle(AGENT, "123456", key="sms:retry")
    assert texts(again) == texts(paid) and await counts(rig) == after
    assert after[0] == 1 and after[2] == 50_000 - 4_900


async def test_a_one_line_command_with_a_wrong_then_the_right_password_pays_once(rig: Rig) -> None:
    """The password is not part of the command's key: a corrected resend is not a duplicate."""
    wrong = await rig.send(AGENT, "CZ*2*18012345678*50*000000")
    assert wrong == [(AGENT, "密码错误，还可尝试4次")]
    right = await rig.send(AGENT, "CZ*2*18012345678*50*123456")
    assert right[0][1].startswith("充值成功 手机18012345678 50.00元")
    assert (await counts(rig))[0::2] == (1, 50_000 - 4_900)


LINE = "CZ*2*18012345678*50*123456"


@pytest.mark.parametrize(("first_at", "gap_s", "recharges"), [
    pytest.param("2026-11-10T10:09:56", 8, 1, id="redelivered-across-a-10-minute-mark"),
    pytest.param("2026-11-10T10:00:01", 599, 1, id="redelivered-just-inside-the-window"),
    pytest.param("2026-11-10T10:00:01", 601, 2, id="sent-again-after-the-window"),
])
async def test_a_one_line_command_is_the_same_within_a_window_sliding_from_the_first_copy(
        rig: Rig, clock: ManualClock, first_at: str, gap_s: int, recharges: int) -> None:
    """Issue 9 defect 1: the same line from the same sender within 600 s of its first copy is
    one recharge (even across hh:m0:00, where a fixed bucket made two); after that, a new one."""
    clock.set(first_at)
    first = await rig.send(AGENT, LINE)
    clock.advance(seconds=gap_s)
    again = await rig.send(AGENT, LINE)
    assert first[0][1].startswith("充值成功") and again[0][1].startswith("充值成功")
    assert (await counts(rig))[0] == recharges
    account = rig.billing.account("mobile", "18012345678")
    assert account is not None and account.balance_fen == 5_000 * recharges


async def test_a_copy_within_the_window_checks_the_password_again(rig: Rig,
                                                                  clock: ManualClock) -> None:
    """A copy with a wrong password is refused (and counted toward the lockout, R-2), never
    answered with the first copy's receipt."""
    await rig.send(AGENT, LINE)
    clock.advance(seconds=8)
    wrong = await rig.send(AGENT, LINE.replace("123456", "000000"))
    assert wrong == [(AGENT, "密码错误，还可尝试4次")]
    assert (await counts(rig))[0] == 1


async def test_a_copy_while_locked_is_refused(rig: Rig, clock: ManualClock) -> None:
    """R-2: a locked agent's repeated command gets the lock, not the stored receipt."""
    await rig.send(AGENT, LINE)
    for _ in range(5):
        await rig.send(AGENT, "YE*000000")
    clock.advance(seconds=8)
    again = await rig.send(AGENT, LINE)
    assert "锁定" in again[0][1] and (await counts(rig))[0] == 1


async def test_a_retry_line_sent_again_after_its_retry_failed_tries_again(rig: Rig,
                                                                          clock: ManualClock) -> None:
    """R-18: CF*ID is the same command only while the recharge is as it was: once a retry
    failed, the same line within 10 minutes makes a new attempt (and still never pays twice)."""
    rig.billing.fail_next(2)
    failed = await rig.send(AGENT, LINE)
    assert failed[0][1].startswith("充值失败")
    first = await rig.send(AGENT, "CF*1*123456")
    assert first[0][1].startswith("充值失败")
    clock.advance(seconds=30)
    second = await rig.send(AGENT, "CF*1*123456")
    assert second[0][1].startswith("充值成功")
    clock.advance(seconds=30)
    assert (await rig.send(AGENT, "CF*1*123456"))[0][1].startswith("充值成功")
    account = rig.billing.account("mobile", "18012345678")
    assert account is not None and account.balance_fen == 5_000
