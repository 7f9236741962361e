"""The ledger's public types: what callers pass to ``Ledger`` methods and what they get back."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ledger.outbox import Notice
from smsmenu.core.types import Channel, TargetKind

__all__ = [
    "AgentInfo",
    "AgentOpened",
    "Channel",
    "Closed",
    "Deposit",
    "DepositChannel",
    "Held",
    "MsisdnChange",
    "Notice",
    "PasswordChange",
    "Recharge",
    "RechargeRequest",
    "RechargeResult",
    "RechargeStatus",
    "ReversalResult",
    "TargetKind",
    "as_dict",
    "notices_from",
]


class RechargeStatus(StrEnum):
    """A recharge's state as stored (R-13..R-18, R-23)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REVERSED = "reversed"


class DepositChannel(StrEnum):
    """How a deposit reached the agent's account: cash at the counter (R-8) or online (R-9)."""

    COUNTER = "counter"
    ONLINE = "online"


def notices_from(items: list[dict[str, Any]]) -> tuple[Notice, ...]:
    """Notices as an idempotent repeat stored them (``as_dict``); old rows read the same."""
    return tuple(Notice(to=n["to"], text=n["text"], outbox_id=n["id"], kind=n["kind"])
                 for n in items)


def as_dict(result: Any) -> dict[str, Any]:
    """A result as the JSON the CLI and the API print (and idempotency stores): its fields in
    order, each notice as ``{"id", "to", "text", "kind"}``; ``unrecorded`` only when set."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if f.name == "notices":
            value = [{"id": n.outbox_id, "to": n.to, "text": n.text, "kind": n.kind}
                     for n in value]
        elif f.name == "unrecorded" and not value:
            continue
        data[f.name] = value
    return data


@dataclass(frozen=True, slots=True)
class RechargeRequest:
    """One recharge as its caller asks for it (R-13..R-17); ``key`` makes it idempotent."""

    key: str
    msisdn: str
    """The agent's bound number."""
    kind: TargetKind
    target: str
    amount_fen: int
    tx_password: str
    notice_to: str | None = None
    """R-17: a mobile number told of a landline or broadband recharge."""
    channel: Channel = Channel.CLI
    """Where the request came from, as the recharge records it."""

    def __repr__(self) -> str:  # never print the password
        return (f"RechargeRequest(key={self.key!r}, msisdn={self.msisdn!r}, kind={self.kind!r}, "
                f"target={self.target!r}, amount_fen={self.amount_fen}, "
                f"channel={self.channel!r})")


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """What an operator or the agent may see of an account (no hashes, no salt).

    ``locked_until`` is the money lock's end, ``web_locked_until`` the web login's
    (``lockout.UNTIL_UNLOCKED`` when only an operator's unlock ends it, R-2)."""

    agent_id: int
    account_no: str
    msisdn: str
    name: str
    status: str
    phone_suspended: bool
    locked_until: str | None
    web_locked_until: str | None
    rate_ppm: int
    lang: str
    balance_fen: int
    reserved_fen: int
    available_fen: int
    opened_at: str
    closed_at: str | None


@dataclass(frozen=True, slots=True)
class AgentOpened(AgentInfo):
    """A new agent (R-1) and the SMS that tells it so (R-3)."""

    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class Deposit:
    """A deposit made (R-8, R-9), with the invoice quota it gives (R-12)."""

    transfer_id: int
    msisdn: str
    channel: str
    amount_fen: int
    invoice_quota_fen: int
    balance_fen: int
    notices: tuple[Notice, ...] = ()
    replayed: bool = field(default=False, compare=False)
    """The key was used before: this is the first deposit's result, nothing happened now (not
    compared: a replay equals the first result)."""


@dataclass(frozen=True, slots=True)
class Closed:
    """An agent closed (R-6) with its refund in cash (``transfer_id`` None when nothing was)."""

    msisdn: str
    refund_fen: int
    transfer_id: int | None
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class PasswordChange:
    """A password replaced (``changed``: ``tx`` or ``mgmt``)."""

    msisdn: str
    changed: str
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class MsisdnChange:
    """An agent bound to another number (R-7)."""

    old_msisdn: str
    msisdn: str
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class RechargeResult:
    """A recharge as an operation leaves it, with the SMS it queued.

    ``unrecorded``: billing answered but storage failed; the recharge stays pending and the
    follow-up finishes it."""

    recharge_id: int
    agent_id: int
    kind: TargetKind
    target: str
    notice_to: str | None
    status: RechargeStatus
    attempts: int
    reference: str
    past_references: str
    transfer_id: int
    account_type: str | None
    bill_month: str | None
    invoice_taken: int
    failure: str | None
    channel: str
    created_at: str
    completed_at: str | None
    amount_fen: int
    commission_fen: int
    charge_fen: int
    notices: tuple[Notice, ...] = ()
    unrecorded: bool = False


@dataclass(frozen=True, slots=True)
class ReversalResult:
    """A reversal (返销) as an operation leaves it, with the SMS it queued."""

    id: int
    recharge_id: int
    agent_id: int
    month: str
    status: str
    reference: str
    transfer_id: int
    operator: str
    failure: str | None
    created_at: str
    completed_at: str | None
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class Recharge:
    """One recharge as stored (amounts in fen, ``past_references`` space-separated, R-18)."""

    id: int
    agent_id: int
    kind: str
    target: str
    notice_to: str | None
    amount: int
    commission: int
    status: str
    attempts: int
    reference: str
    past_references: str
    transfer_id: int
    account_type: str | None
    bill_month: str | None
    invoice_taken: int
    failure: str | None
    channel: str
    created_at: str
    completed_at: str | None

    @property
    def charge(self) -> int:
        """What the agent pays: the amount less the commission (R-16)."""
        return self.amount - self.commission

    def as_dict(self) -> dict[str, Any]:
        """``result()`` as JSON fields, without notices (a row of a listing)."""
        data = as_dict(self.result())
        del data["notices"]
        return data

    def result(self, notices: tuple[Notice, ...] = (),
               unrecorded: bool = False) -> RechargeResult:
        """The recharge as operations return it (amounts named ``*_fen``), with its notices."""
        return RechargeResult(
            self.id, self.agent_id, TargetKind(self.kind), self.target, self.notice_to,
            RechargeStatus(self.status), self.attempts, self.reference, self.past_references,
            self.transfer_id, self.account_type, self.bill_month, self.invoice_taken,
            self.failure, self.channel, self.created_at, self.completed_at, self.amount,
            self.commission, self.amount - self.commission, notices, unrecorded)


@dataclass(frozen=True, slots=True)
class Held:
    """A reservation as ``begin`` returns it; ``fresh`` when this very call made it, so its
    reference was never sent to BOSS (an idempotent repeat returns the first one, not fresh)."""

    recharge: Recharge
    fresh: bool
