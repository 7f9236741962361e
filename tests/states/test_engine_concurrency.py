"""One agent's messages are applied in arrival order; many agents at once keep the books exact."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from states_support import AGENT, Rig

from ledger import money

pytestmark = pytest.mark.both_engines

DIALOG = ["1", "2", "18012345678", "50", "1", "123456"]


async def test_two_racing_messages_of_one_agent_are_applied_in_order(rig: Rig) -> None:
    """'1' then '2' sent at once: 充值 screen, then the mobile number screen; the session agrees."""
    first, second = await asyncio.gather(rig.send(AGENT, "1"), rig.send(AGENT, "2"))
    assert first[0][1].startswith("充值\n1固定电话") and second[0][1] == "请输入C网手机号码\n0返回"
    row = await rig.ledger.op(lambda conn, env, now: conn.execute(
        "SELECT state, data FROM menu_sessions WHERE msisdn = ? AND channel = 'sms'", (AGENT,)).fetchone())
    assert (row[0], json.loads(row[1])) == ("number", {"kind": "mobile"})


async def test_a_whole_dialog_sent_at_once_pays_exactly_once(rig: Rig) -> None:
    """All six messages of a recharge racing: each answered in turn, the last one is the receipt."""
    replies = await asyncio.gather(*(rig.send(AGENT, text) for text in DIALOG))
    assert [r[0][1].split("\n")[0] for r in replies[:5]] == [
        "充值", "请输入C网手机号码", "请输入金额(10-1000元,10的倍数)", "请核对", "请输入交易密码"]
    assert replies[5][0][1].startswith("充值成功 手机18012345678 50.00元 佣金1.00元")
    assert (await rig.ledger.agent(AGENT)).balance_fen == 45_100


async def test_a_hundred_agents_recharging_at_once_leave_the_ledger_exact(rig: Rig) -> None:
    """100 agents, 10 to 1000 yuan, all kinds, at once: every balance exact, verify() clean."""
    agents = [f"1890000{i:04d}" for i in range(100)]
    for msisdn in agents:
        await rig.open_agent(msisdn, yuan=1_000)
    kinds = [("1", "02787654321", "1"), ("2", "18012345678", None), ("3", "02788887777", None),
             ("4", "02712345678", "18012345679")]

    async def walk(i: int, msisdn: str) -> list[tuple[str, str]]:
        kind, target, notice = kinds[i % 4]
        amount = str(10 * (1 + i % 100))
        last: list[tuple[str, str]] = []
        for text in ["1", kind, target, amount, *([notice] if notice else []), "1", "123456"]:
            last = await rig.send(msisdn, text)
        return last

    started = time.monotonic()
    receipts = await asyncio.gather(*(walk(i, m) for i, m in enumerate(agents)))
    assert time.monotonic() - started < 20
    assert all(r[0][1].startswith("充值成功") for r in receipts)
    assert not rig.engine.turns  # per-agent turns are dropped when idle: memory stays flat
    for i, msisdn in enumerate(agents):
        amount = 1_000 * (1 + i % 100)
        charge = amount - money.commission(amount, 20_000)
        view = await rig.ledger.agent(msisdn)
        assert (view.balance_fen, view.reserved_fen) == (100_000 - charge, 0), msisdn
    credited = sum(a.balance_fen for a in rig.billing.books.accounts.values())
    assert credited == sum(1_000 * (1 + i % 100) for i in range(100))
    breaches = await rig.ledger.verify()
    assert not any(breaches.values()), breaches
