"""The ledger's events in words: each renders to the exact SMS the ledger used to write itself."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from ledger import events as e
from ledger.store import schema
from smsmenu.core.texts import LANGS, packaged
from smsmenu.states.notices import SmsNotices, render

AGENT = "18912345678"
AT = dt.datetime(2026, 11, 10, 10, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
FOREVER = dt.datetime(9999, 12, 31, 8, tzinfo=ZoneInfo("Asia/Shanghai"))

WORDS = [
    pytest.param(e.AccountOpened(AGENT, "zh", "小王", "A0000001"),
                 "【空中充值】小王，您的代办户A0000001已开通，绑定号码18912345678。"
                 "请妥善保管交易密码和管理密码。", id="opened"),
    pytest.param(e.DepositReceived(AGENT, "zh", 50_000, 50_000, AT),
                 "【空中充值】您的充值账户于11-10 10:05存入500.00元，当前余额500.00元。",
                 id="deposit"),
    pytest.param(e.AccountClosed(AGENT, "zh", 950), "【空中充值】您的代办户已销户，退款9.50元。",
                 id="closed"),
    pytest.param(e.PasswordChanged(AGENT, "zh", "tx"),
                 "【空中充值】您的交易密码已修改。如非本人操作请致电10000。", id="password-tx"),
    pytest.param(e.PasswordChanged(AGENT, "en", "mgmt"),
                 "[Air recharge] Your management password was changed. If this was not you, "
                 "call 10000.", id="password-mgmt-en"),
    pytest.param(e.MsisdnChanged("18912340000", "zh"),
                 "【空中充值】您的代办户已改绑至本号码18912340000。", id="msisdn"),
    pytest.param(e.LockSet(AGENT, "zh", "tx", 5, AT + dt.timedelta(minutes=30), False),
                 "【空中充值】交易密码连续输错5次，充值和余额查询已锁定至11-10 10:35，"
                 "网页登录不受影响。如非本人操作请致电10000。", id="locked-tx"),
    pytest.param(e.LockSet(AGENT, "zh", "web", 5, FOREVER, True),
                 "【空中充值】网页登录连续失败5次，网页登录已锁定，须致电10000由客服解锁，"
                 "短信充值不受影响。如非本人操作请告知客服。", id="locked-web-until-unlocked"),
    pytest.param(e.RechargeSucceeded(AGENT, "zh", "mobile", "18900001111", 10_000, 200, 9_800,
                                     40_200, "RC0000000003", 3),
                 "充值成功 手机18900001111 100.00元 佣金2.00元 余额402.00元 单号0000000389\n0主菜单",
                 id="recharge-ok"),
    pytest.param(e.CustomerCredited("18900001111", "zh", "landline", "02787654321", 10_000, AT),
                 "【中国电信】您的固话02787654321于11-10 10:05成功充值100.00元。", id="customer"),
    pytest.param(e.RechargeFailed(AGENT, "zh", 7, "mobile", "18900001111", 10_000, "declined",
                                  "no such account"),
                 "充值失败 手机18900001111 100.00元：计费系统拒绝。"
                 "未扣款，可重复充值(单号0000000777)。\n0主菜单",
                 id="recharge-failed-billing-detail-not-shown"),
    pytest.param(e.RechargeFailed(AGENT, "en", 7, "phs", "02761234567", 10_000, "unavailable"),
                 "Recharge 0000000777 of PHS 02761234567 100.00 yuan failed: billing unavailable. "
                 "Nothing charged; you can retry it.\n0 main menu", id="recharge-failed-en"),
    pytest.param(e.RechargePending(AGENT, "zh", 7, "broadband", "02712345678", 10_000, 9_800),
                 "充值待确认 宽带02712345678 100.00元，已暂扣98.00元，结果将短信通知，"
                 "勿重复充值(单号0000000777)", id="recharge-pending"),
    pytest.param(e.ReversalDone(AGENT, "zh", "RC0000000003", 10_000, 9_800, 50_000, 3),
                 "【空中充值】单号0000000389的充值已返销，100.00元充值已撤销，退回98.00元，"
                 "余额500.00元。", id="reversal"),
]


@pytest.mark.parametrize(("event", "text"), WORDS)
def test_each_event_renders_to_the_ledgers_former_words(event: e.Event, text: str) -> None:
    """Same keys, same parameters, same formatting (yuan, local time) as before the events."""
    assert render(packaged(), event) == text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("event", "text"), WORDS)
def test_each_event_has_words_in_every_language(event: e.Event, text: str, lang: str) -> None:
    """No event lacks a text (or a parameter) in any shipped language."""
    assert render(packaged(), dataclasses.replace(event, lang=lang))


def test_every_event_type_is_worded_above() -> None:
    """A new event type needs its row in the table (and its words in ``config/menus``)."""
    assert {type(p.values[0]) for p in WORDS} == set(get_args(e.Event))


def test_the_notifier_queues_one_sms_per_event_in_the_callers_transaction() -> None:
    """``SmsNotices`` writes the outbox row on the connection it is given: it commits with it."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    schema.create(conn)
    event = e.AccountClosed(AGENT, "zh", 0)
    conn.execute("BEGIN")
    [sent] = SmsNotices()(conn, event, AT)
    assert (sent.to, sent.kind, sent.text) == (AGENT, "closed", render(packaged(), event))
    conn.rollback()
    assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)
    conn.close()
