"""A storage error after billing answered never tells an agent to try again (issue 9, defect 5)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import pytest
from states_support import AGENT, Rig

from smsmenu.core.errors import StorageError
from smsmenu.core.types import Channel
from smsmenu.states import steps

LINE = "CZ*2*18012345678*50*123456"


@pytest.fixture
def disk_full_at_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recording billing's answer fails once, as a full disk would fail its commit."""
    real = steps.finish
    calls = [0]

    def finish(*args: Any, **kw: Any) -> steps.Outcome:
        calls[0] += 1
        if calls[0] == 1:
            raise sqlite3.OperationalError("database or disk is full")
        return real(*args, **kw)
    monkeypatch.setattr(steps, "finish", finish)


@pytest.mark.usefixtures("disk_full_at_finish")
async def test_http_reply_says_the_result_follows_and_the_followup_posts_once(rig: Rig) -> None:
    """HTTP: the answer says the result follows by SMS (not 'try again'); recovery posts it once."""
    out = await rig.handle(AGENT, LINE, channel=Channel.HTTP)
    text = out.replies[0].text
    assert text.startswith("充值待确认 手机18012345678 50.00元，已暂扣49.00元") and "再试" not in text
    r = (await rig.ledger.pending())[0]
    assert r.op == "recharge" and r.answer is None
    assert (await rig.ledger.recover())["posted"] == 1
    again = await rig.handle(AGENT, LINE, channel=Channel.HTTP)  # the agent re-sends anyway
    assert again.replies[0].text.startswith("充值成功 手机18012345678 50.00元")
    account = rig.billing.account("mobile", "18012345678")
    assert account is not None and account.balance_fen == 5_000
    assert (await rig.ledger.agent(AGENT)).balance_fen == 50_000 - 4_900


@pytest.mark.usefixtures("disk_full_at_finish")
async def test_sms_is_not_acknowledged_and_its_redelivery_pays_once(rig: Rig) -> None:
    """SMS: the step raises (the MO is not acknowledged, the SMSC redelivers); the redelivery
    finds the same recharge and settles it: one credit, one charge."""
    with pytest.raises(StorageError):
        await rig.handle(AGENT, LINE, key="mo-1")
    redelivered = await rig.handle(AGENT, LINE, key="mo-2")
    assert redelivered.replies[0].text.startswith("充值成功 手机18012345678 50.00元")
    account = rig.billing.account("mobile", "18012345678")
    assert account is not None and account.balance_fen == 5_000
    assert (await rig.ledger.agent(AGENT)).balance_fen == 50_000 - 4_900
    assert not any((await rig.ledger.verify()).values())


@pytest.mark.usefixtures("disk_full_at_finish")
async def test_an_unrecorded_answer_is_followed_up_at_the_next_round(rig: Rig) -> None:
    """The follow-up takes a recharge whose answer could not be recorded at its next round,
    without waiting for the caller-gone threshold."""
    await rig.handle(AGENT, LINE, channel=Channel.HTTP)
    counts = await rig.ledger.recover(older_than=dt.timedelta(minutes=1),
                                      retry_after=dt.timedelta(seconds=10))
    assert counts == {"posted": 1, "voided": 0, "kept": 0}
    assert not rig.ledger.unrecorded
