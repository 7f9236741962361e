"""What the ledger tells agents and customers: typed events (facts, no words) and the notifier.

An operation emits its events inside its own transaction to the ``Notifier`` it was opened
with (``Ledger.open(..., notifier=...)``); the notifier renders the words and queues the SMS
on the same connection, so the messages commit (or roll back) with the money. What it queued
comes back as ``Reply`` rows, the operation's ``notices``. Amounts are in fen; times are local
(the ledger's time zone); ``lang`` is the recipient's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from ledger.store import Conn
from smsmenu.core.types import Reply

__all__ = ["AccountClosed", "AccountOpened", "CustomerCredited", "DepositReceived", "Event",
           "LockSet", "MsisdnChanged", "Notifier", "PasswordChanged", "RechargeFailed",
           "RechargePending", "RechargeSucceeded", "ReversalDone"]


@dataclass(frozen=True, slots=True)
class AccountOpened:
    """R-3: a new agent is told its name, account and number (never its passwords)."""

    to: str
    lang: str
    name: str
    account_no: str

    kind: ClassVar[str] = "opened"


@dataclass(frozen=True, slots=True)
class DepositReceived:
    """R-8, R-9: money reached the agent's account; ``balance_fen`` is available after it."""

    to: str
    lang: str
    amount_fen: int
    balance_fen: int
    at: dt.datetime

    kind: ClassVar[str] = "deposit"


@dataclass(frozen=True, slots=True)
class AccountClosed:
    """R-6: the agent is closed, ``refund_fen`` paid back in cash (0 when nothing was)."""

    to: str
    lang: str
    refund_fen: int

    kind: ClassVar[str] = "closed"


@dataclass(frozen=True, slots=True)
class PasswordChanged:
    """R-21: the ``tx`` or ``mgmt`` password was replaced."""

    to: str
    lang: str
    purpose: str

    kind: ClassVar[str] = "password_changed"


@dataclass(frozen=True, slots=True)
class MsisdnChanged:
    """R-7: the agent is now bound to ``to`` (the new number is told)."""

    to: str
    lang: str

    kind: ClassVar[str] = "msisdn_changed"


@dataclass(frozen=True, slots=True)
class LockSet:
    """R-2: ``attempts`` failures in a row locked the ``lock`` (money or web login) until
    ``until``, or until an operator unlocks (``for_operator``)."""

    to: str
    lang: str
    lock: Literal["tx", "web"]
    attempts: int
    until: dt.datetime
    for_operator: bool

    @property
    def kind(self) -> str:
        return f"locked_{self.lock}"


@dataclass(frozen=True, slots=True)
class RechargeSucceeded:
    """R-17: the agent's receipt of an applied recharge; ``balance_fen`` is available after."""

    to: str
    lang: str
    target_kind: str
    target: str
    amount_fen: int
    commission_fen: int
    charge_fen: int
    balance_fen: int
    reference: str
    recharge_id: int
    """What the agent quotes (as ``smsmenu.core.refno.quote``); ``reference`` is BOSS's."""

    kind: ClassVar[str] = "receipt"


@dataclass(frozen=True, slots=True)
class CustomerCredited:
    """R-17: the customer (the mobile target, or the notice number) is told of the credit."""

    to: str
    lang: str
    target_kind: str
    target: str
    amount_fen: int
    at: dt.datetime

    kind: ClassVar[str] = "customer"


@dataclass(frozen=True, slots=True)
class RechargeFailed:
    """A recharge that was not applied, the money released: why (``code`` of the reasons,
    with billing's ``detail`` when it gave one) and the id to retry it by (R-18)."""

    to: str
    lang: str
    recharge_id: int
    target_kind: str
    target: str
    amount_fen: int
    code: str
    detail: str = ""

    kind: ClassVar[str] = "recharge_failed"


@dataclass(frozen=True, slots=True)
class RechargePending:
    """Billing's answer is unknown: the money stays held and the result follows by SMS."""

    to: str
    lang: str
    recharge_id: int
    target_kind: str
    target: str
    amount_fen: int
    charge_fen: int

    kind: ClassVar[str] = "recharge_pending"


@dataclass(frozen=True, slots=True)
class ReversalDone:
    """R-23..R-25: a recharge was reversed, ``charge_fen`` back; ``balance_fen`` available."""

    to: str
    lang: str
    reference: str
    amount_fen: int
    charge_fen: int
    balance_fen: int
    recharge_id: int
    """The reversed recharge, as the agent quotes it (``reference`` is BOSS's)."""

    kind: ClassVar[str] = "reversal"


Event = (AccountOpened | DepositReceived | AccountClosed | PasswordChanged | MsisdnChanged
         | LockSet | RechargeSucceeded | CustomerCredited | RechargeFailed | RechargePending
         | ReversalDone)
"""Everything the ledger tells anyone; each names its recipient (``to``) and outbox ``kind``."""


class Notifier(Protocol):
    """Renders an event and queues its SMS on ``conn``, inside the operation's transaction;
    returns the queued rows. Raising rolls the whole operation back."""

    def __call__(self, conn: Conn, event: Event, now: dt.datetime) -> tuple[Reply, ...]: ...
