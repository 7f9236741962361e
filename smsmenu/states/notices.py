"""The ledger's notifier: each ``ledger.events`` event in words (``[notice]``), queued as an SMS."""

from __future__ import annotations

import datetime as dt
import sqlite3

from ledger import inside
from ledger.events import (
    AccountClosed,
    AccountOpened,
    CustomerCredited,
    DepositReceived,
    Event,
    LockSet,
    MsisdnChanged,
    PasswordChanged,
    RechargeFailed,
    RechargePending,
    RechargeSucceeded,
    ReversalDone,
)
from ledger.money import format_yuan as yuan
from smsmenu.core import refno
from smsmenu.core.clock import iso
from smsmenu.core.texts import Texts, packaged
from smsmenu.core.types import Reply

TIME = "%m-%d %H:%M"
"""How a notice writes a local time (month-day hour:minute)."""


def render(texts: Texts, event: Event) -> str:
    """The SMS text of ``event`` in its recipient's language."""
    t, lang = texts.render, event.lang
    match event:
        case AccountOpened():
            return t(lang, "notice.opened", name=event.name, account=event.account_no,
                     msisdn=event.to)
        case DepositReceived():
            return t(lang, "notice.deposit", amount=yuan(event.amount_fen),
                     balance=yuan(event.balance_fen), time=event.at.strftime(TIME))
        case AccountClosed():
            return t(lang, "notice.closed", refund=yuan(event.refund_fen))
        case PasswordChanged():
            return t(lang, "notice.password_changed",
                     which=t(lang, f"password.{event.purpose}"))
        case MsisdnChanged():
            return t(lang, "notice.msisdn_changed", msisdn=event.to)
        case LockSet():
            key = f"notice.locked_{event.lock}" + ("_unlock" if event.for_operator else "")
            return t(lang, key, attempts=event.attempts, until=event.until.strftime(TIME))
        case RechargeSucceeded():
            return t(lang, "notice.recharge_ok", kind=t(lang, f"kind.{event.target_kind}"),
                     target=event.target, amount=yuan(event.amount_fen),
                     commission=yuan(event.commission_fen), charge=yuan(event.charge_fen),
                     balance=yuan(event.balance_fen), reference=refno.quote(event.recharge_id))
        case CustomerCredited():
            return t(lang, "notice.customer", kind=t(lang, f"kind.{event.target_kind}"),
                     target=event.target, amount=yuan(event.amount_fen),
                     time=event.at.strftime(TIME))
        case RechargeFailed():
            # BOSS's own detail (English, technical) stays in the logs and the back office
            reason = t(lang, f"reason.{event.code}")
            return t(lang, "notice.recharge_failed", kind=t(lang, f"kind.{event.target_kind}"),
                     target=event.target, amount=yuan(event.amount_fen), reason=reason,
                     id=refno.quote(event.recharge_id))
        case RechargePending():
            return t(lang, "notice.recharge_pending", kind=t(lang, f"kind.{event.target_kind}"),
                     target=event.target, amount=yuan(event.amount_fen),
                     charge=yuan(event.charge_fen), id=refno.quote(event.recharge_id))
        case ReversalDone():
            return t(lang, "notice.reversal", reference=refno.quote(event.recharge_id),
                     amount=yuan(event.amount_fen), charge=yuan(event.charge_fen),
                     balance=yuan(event.balance_fen))


class SmsNotices:
    """The ``ledger.events.Notifier`` of the server, the CLI, the simulators and the tests:
    renders an event with ``texts`` and queues it in the operation's transaction (the outbox
    row commits with the money); one SMS per event."""

    def __init__(self, texts: Texts | None = None) -> None:
        self.texts = texts or packaged()
        """By default the shipped texts (``config/menus``); each event names its language."""

    def __call__(self, conn: sqlite3.Connection, event: Event,
                 now: dt.datetime) -> tuple[Reply, ...]:
        return (inside.queue_sms(conn, event.to, render(self.texts, event), event.kind,
                                 iso(now)),)
