"""The UTK card's one-line commands: MM and ZJ, and the card tag as the message key (issue 15)."""

from __future__ import annotations

import datetime as dt

import pytest
from states_support import AGENT, MGMT, TX, MakeRig, Rig

from smsmenu.core.types import Channel, Inbound
from smsmenu.states import commands

pytestmark = pytest.mark.both_engines

CARD = "#UTK8986A1B2-"


async def recharges(rig: Rig) -> int:
    return int(await rig.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT COUNT(*) FROM recharges").fetchone()[0]))


async def said(rig: Rig, text: str, key: str | None = None) -> list[str]:
    return [r.text for r in (await rig.handle(AGENT, text, key=key)).replies]


def test_the_card_tag_is_split_from_the_command() -> None:
    """``CMD#UTK<card>-<n>``: the command, then the card (upper case) and its counter."""
    text, tag = commands.card_tag("CZ*2*15300002222*100*123456#utk8986a1b2-17")
    assert text == "CZ*2*15300002222*100*123456"
    assert tag == commands.CardTag("8986A1B2", 17) and tag.key("189") == "card:189:8986A1B2:17"
    assert commands.card_tag("CF#12#123456") == ("CF#12#123456", None)


def test_keyed_makes_the_tag_the_durable_message_key() -> None:
    """A tagged message gets the card key even when its transport had no durable one."""
    msg = Inbound(AGENT, "YE*123456#UTK00AB-3", Channel.SMS, dt.datetime.now(dt.UTC), "smpp:x",
                  durable_key=False)
    keyed = commands.keyed(msg)
    assert (keyed.text, keyed.key, keyed.durable_key) == ("YE*123456", f"card:{AGENT}:00AB:3",
                                                          True)
    assert keyed.meta == {"card": "00AB", "counter": "3"}
    assert commands.keyed(msg.__class__(AGENT, "1", Channel.SMS, msg.received_at, "k")).key == "k"


async def test_a_late_resend_of_a_card_recharge_never_charges_twice(make_rig: MakeRig) -> None:
    """The same counter under other transport keys, even after the answers were pruned: one
    recharge, one charge (R-10); the copy within the window gets the first answer."""
    rig = await make_rig()
    line = f"CZ*2*18012345678*50*{TX}{CARD}1"
    first = await said(rig, line, key="smpp:a")
    assert "充值成功" in first[0] and await recharges(rig) == 1
    balance = (await rig.ledger.agent(AGENT)).balance_fen
    assert await said(rig, line, key="smpp:b") == first
    rig.clock.advance(days=30)
    await rig.engine.prune(dt.timedelta(days=2))
    late = await said(rig, line, key="smpp:c")
    assert late == ["指令1已处理或已有更新的指令，本次未执行。"]
    assert await recharges(rig) == 1 and (await rig.ledger.agent(AGENT)).balance_fen == balance


async def test_an_older_counter_is_refused_and_a_newer_one_runs(make_rig: MakeRig) -> None:
    """Counter 5 after 7 is not applied; 8 is; the balance query answers."""
    rig = await make_rig(lang="en")
    assert "balance" in (await said(rig, f"YE*{TX}{CARD}7"))[0].lower()
    stale = await said(rig, f"CZ*2*18012345678*50*{TX}{CARD}5")
    assert stale == ["Command 5 was handled before or a newer one was; nothing was done."]
    assert await recharges(rig) == 0
    assert "18012345678" in (await said(rig, f"CZ*2*18012345678*50*{TX}{CARD}8"))[0]


async def test_mm_changes_the_transaction_password_through_the_ledger(make_rig: MakeRig) -> None:
    """MM*1*OLD*NEW: the changed-password notice; the new one works, the old one not (R-21)."""
    rig = await make_rig()
    out = await said(rig, f"MM*1*{TX}*246810")
    assert out == ["【空中充值】您的交易密码已修改。如非本人操作请致电10000。"]
    assert "余额" in (await said(rig, "YE*246810"))[0]
    assert "密码错误" in (await said(rig, f"YE*{TX}"))[0]


async def test_mm_2_changes_the_management_password(make_rig: MakeRig) -> None:
    """MM*2 checks the management password; a wrong old one counts toward its lock (R-2)."""
    rig = await make_rig(lang="en")
    wrong = await said(rig, "MM*2*111111*222222")
    assert "wrong" in wrong[0].lower()
    assert "changed" in (await said(rig, f"MM*2*{MGMT}*222222"))[0]
    await rig.ledger.check_password(AGENT, "mgmt", "222222")


async def test_mm_refuses_a_bad_purpose_or_format(make_rig: MakeRig) -> None:
    """MM*3 quotes the syntax; a new password that is not 6 digits is refused, nothing changed."""
    rig = await make_rig(lang="en")
    assert "MM*1 (transaction) or 2 (management)*OLD*NEW" in (await said(rig, f"MM*3*{TX}*1"))[0]
    assert (await said(rig, f"MM*1*{TX}*12"))[0]
    await rig.ledger.check_password(AGENT, "tx", TX)


async def test_zj_lists_recent_recharges_behind_the_password(make_rig: MakeRig) -> None:
    """ZJ*PASSWORD: none yet, then the recharge just made; a wrong password lists nothing."""
    rig = await make_rig()
    assert await said(rig, f"ZJ*{TX}") == ["没有充值记录。"]
    await said(rig, f"CZ*2*18012345678*50*{TX}")
    listed = (await said(rig, f"ZJ*{TX}"))[0]
    assert listed.startswith("最近充值\n") and "18012345678 50元" in listed
    assert "密码错误" in (await said(rig, "ZJ*000000"))[0]


async def outbox_rows(rig: Rig) -> list[tuple[str, str]]:
    rows = await rig.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT to_msisdn, text FROM outbox ORDER BY id").fetchall())
    return [(r[0], r[1]) for r in rows]


async def test_a_card_resend_queues_the_agents_answer_again_not_the_customers(
        make_rig: MakeRig) -> None:
    """The card resends when no answer reached the agent: the receipt goes out again as a new
    SMS to the agent; the customer's notice is not sent twice; nothing is charged again."""
    rig = await make_rig()
    line = f"CZ*2*18012345678*50*{TX}{CARD}1"
    first = await rig.handle(AGENT, line, key="smpp:a")
    before = await outbox_rows(rig)
    again = await rig.handle(AGENT, line, key="smpp:b")
    assert again.replayed and [r.text for r in again.replies] == [r.text for r in first.replies]
    after = await outbox_rows(rig)
    assert after[:len(before)] == before
    assert after[len(before):] == [(AGENT, first.replies[0].text)]
    assert await recharges(rig) == 1
