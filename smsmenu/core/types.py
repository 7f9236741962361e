"""Shared aliases, value types and Protocols (Clock, Billing, the inbound pipeline's handler)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

Msisdn = str
"""A phone number as digits only, e.g. ``18912345678`` or ``02787654321``."""
Fen = int
"""Money in fen (1 yuan = 100 fen). Never a float."""
Lang = Literal["zh", "en"]


class TargetKind(StrEnum):
    """The four kinds of customer account an agent can recharge (R-14, domain "Customer")."""

    LANDLINE = "landline"
    MOBILE = "mobile"
    PHS = "phs"
    BROADBAND = "broadband"


class Channel(StrEnum):
    """How a message or request reached us."""

    SMS = "sms"
    USSD = "ussd"
    HTTP = "http"
    WEB = "web"
    CLI = "cli"

    @property
    def dialog(self) -> str:
        """The menu session a message of this channel belongs to: ``sms`` (SMPP, SMGP, Kannel;
        any bind, any instance), ``ussd`` or ``api``. One never reads or changes another's."""
        return {"ussd": "ussd", "http": "api"}.get(self.value, "sms")

    @property
    def delivery(self) -> Delivery:
        """Which replies this channel's transport hands over itself (``DELIVERY``)."""
        return DELIVERY[self]


class Delivery(StrEnum):
    """Which of a message's replies its channel delivers itself, in its own answer; the others
    are SMS the outbox sends (``Dispatcher``). The one place this rule is written."""

    OUTBOX = ""
    """Store and forward (SMS): every reply waits in the outbox; the MO is only acknowledged."""
    SENDER = "agent"
    """The sender's own replies are the answer (the USSD screen); notices to others go by SMS."""
    ALL = "all"
    """The answer carries every reply (HTTP's JSON body); nothing is left to the outbox."""

    def hands(self, to: Msisdn, sender: Msisdn) -> bool:
        """Whether a reply to ``to`` of a message from ``sender`` is handed over by the channel."""
        return self == "all" or (self == "agent" and to == sender)

    # ``own`` and ``queued`` spell ``hands`` out for a whole list: they run for every message,
    # and comparing the value is cheaper than looking up a member (``Delivery.ALL``).

    def own(self, replies: list[Reply], sender: Msisdn) -> list[Reply]:
        """The replies the channel answers with, in order."""
        if self == "all":
            return replies
        return [r for r in replies if r.to == sender] if self == "agent" else []

    def queued(self, replies: list[Reply], sender: Msisdn) -> list[Reply]:
        """The replies the outbox must send (written to it, not handed over by the channel)."""
        if self == "all":
            return []
        if self == "agent":
            return [r for r in replies if r.outbox_id is not None and r.to != sender]
        return [r for r in replies if r.outbox_id is not None]


class Clock(Protocol):
    """Source of the current time; always timezone-aware."""

    def now(self) -> dt.datetime: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """One SMS to send: the one outgoing message type, from the step or operation that wrote
    it to the outbox, through the outbox drain (``Dispatcher``), to a gateway's ``send``."""

    to: Msisdn
    text: str
    outbox_id: int | None = None
    """The durable outbox row this reply was written to, when it was."""
    kind: str = ""
    """What the outbox row is (``menu``, ``receipt``, ``opened``...), when it was read from it."""


@dataclass(frozen=True, slots=True)
class CreditResult:
    """What billing (BOSS) answered about one credit or reversal, known by its reference.

    ``ok`` is final success; ``ok=False`` is a final failure with a ``reason``.
    ``account_type`` is ``prepaid`` (a top-up) or ``postpaid`` (a bill payment, R-24);
    ``bill_month`` (``YYYY-MM``) is the month of the bill a postpaid payment settled (R-25).
    """

    ok: bool
    reference: str
    account_type: Literal["prepaid", "postpaid"] = "prepaid"
    bill_month: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BossCredit:
    """One credit as BOSS's books hold it (``GET /credits?date=D``)."""

    reference: str
    kind: TargetKind
    number: Msisdn
    amount_fen: Fen
    ok: bool
    """Applied. False: refused or cancelled (``reason`` says which)."""
    reason: str
    at: str
    """When BOSS first received it, ISO 8601 with offset."""


class Billing(Protocol):
    """The operator's billing system (BOSS), as far as the platform needs it.

    Every call is idempotent by ``reference``: repeating a credit with the same reference never
    credits twice. A call that does not answer in time raises ``errors.BillingTimeout`` (its
    outcome is unknown); an unreachable BOSS raises ``errors.BillingUnavailable`` (the call
    certainly did not take effect). The protocol for an unknown outcome is in the README
    ("Billing protocol"): re-send under the same reference until BOSS answers, ``cancel`` only
    by an operator or after ``[billing] give_up_after_s``.
    """

    async def credit(
        self, kind: TargetKind, number: Msisdn, amount_fen: Fen, reference: str
    ) -> CreditResult: ...

    async def reverse(self, original_reference: str, reference: str) -> CreditResult: ...

    async def status(self, reference: str) -> CreditResult | None:
        """The final result of a credit or reversal, or None if BOSS never saw the reference."""
        ...

    async def balance(self, kind: TargetKind, number: Msisdn) -> Fen:
        """The customer account's balance in fen (what a reversal could take back, R-25)."""
        ...

    async def cancel(self, reference: str) -> CreditResult:
        """Close ``reference`` for good and return its final result.

        ``ok=True``: BOSS had applied it (nothing is cancelled; post it). ``ok=False``: it was
        never applied and never will be: BOSS refuses any later credit under it (reason
        ``cancelled``, or the failure it had already). Idempotent, like every call.
        """
        ...

    async def credits(self, day: dt.date) -> list[BossCredit]:
        """Every credit BOSS received on ``day`` (its business day, Asia/Shanghai), for
        reconciliation: applied, refused and cancelled alike."""
        ...


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a handset, as every transport hands it to the ``InboundHandler``."""

    msisdn: Msisdn
    """The sender, normalized by the handler's ``sender`` (digits, no country code)."""
    text: str
    channel: Channel
    received_at: dt.datetime
    key: str
    """Stable id of this message; a redelivery under the same key is harmless."""
    meta: dict[str, str] = field(default_factory=dict)
    durable_key: bool = True
    """False when the transport made ``key`` up for this delivery (SMPP without the carrier's
    message id): a redelivery comes under another key, so no answer is kept under this one."""


class Answer(Protocol):
    """What the handler answers a message with: its replies (the sender's first), whether
    the dialog ended there (USSD's ``END``) and whether it is a replay (the message's key was
    answered before: the same replies again, nothing applied twice)."""

    @property
    def replies(self) -> list[Reply]: ...

    @property
    def final(self) -> bool: ...

    @property
    def replayed(self) -> bool: ...


class InboundHandler(Protocol):
    """The one inbound pipeline as transports see it (SMPP, Kannel, HTTP ``/api/sms``, USSD).

    A transport cleans its sender address with ``sender`` (None: no phone number; the
    transport refuses the message its own way), builds an ``Inbound`` and awaits the handler:
    it returns once the step (and any money effect) has committed, with the replies. Each
    number's messages, whatever their channel, are stepped one at a time in the order the
    handler was called; beyond a bounded number waiting for one number it raises
    ``SenderBusy`` at once (SMPP answers ESME_RX_T_APPN, HTTP 503), and an ``Exception`` means
    nothing was acknowledged (the SMSC redelivers, the HTTP caller sees an error). Replies
    the channel does not deliver itself (``Channel.delivery``) are the outbox's to send.
    """

    def sender(self, raw: str) -> Msisdn | None: ...

    async def __call__(self, msg: Inbound) -> Answer: ...


DELIVERY: Mapping[Channel, Delivery] = {
    Channel.SMS: Delivery.OUTBOX, Channel.USSD: Delivery.SENDER, Channel.HTTP: Delivery.ALL,
    Channel.WEB: Delivery.ALL, Channel.CLI: Delivery.OUTBOX,
}  # fmt: skip
"""Each channel's ``Delivery``: read it as ``channel.delivery``."""


@dataclass(frozen=True, slots=True)
class LinkHealth:
    """One connection of a transport (an SMPP bind), as ``/metrics`` reports it."""

    name: str
    bound: bool
    in_flight: int = 0
    """Requests awaiting their response (the window in use)."""
    window: int = 0
    binds: int = 0
    """Binds made since start (more than one: it reconnected)."""
    failures: int = 0
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class Health:
    """A transport's state: up (``bound``) and, for one that keeps connections, each link."""

    bound: bool
    in_flight: int = 0
    links: tuple[LinkHealth, ...] = ()
