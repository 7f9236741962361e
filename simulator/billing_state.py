"""The simulated BOSS's books: customer accounts, monthly bills, results stored by reference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal
from zoneinfo import ZoneInfo

from smsmenu.core.types import BossCredit, CreditResult, Fen, Msisdn, TargetKind

AccountType = Literal["prepaid", "postpaid"]
Key = tuple[TargetKind, Msisdn]
Request = tuple[str, ...]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NO_ACCOUNT = "no such account"
CANCELLED = "cancelled"
CANCEL_ONLY: Request = ("cancel",)
"""The request of an entry made by a cancel of a reference BOSS had never seen."""


class ShanghaiClock:
    """The wall clock in Asia/Shanghai (the simulator's default clock)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(SHANGHAI)


@dataclass(slots=True)
class Bill:
    """One month's bill of a postpaid account."""

    due_fen: Fen
    paid_fen: Fen = 0


@dataclass(slots=True)
class Account:
    """A customer account as BOSS holds it; ``bills`` maps ``YYYY-MM`` to that month's bill."""

    kind: TargetKind
    number: Msisdn
    account_type: AccountType
    balance_fen: Fen = 0
    bills: dict[str, Bill] = field(default_factory=dict)

    def as_json(self, credits: Mapping[str, Fen] | None = None) -> dict[str, object]:
        """The account in the simulator's HTTP wire format, with its applied ``credits``."""
        bills = {m: {"due_fen": b.due_fen, "paid_fen": b.paid_fen} for m, b in self.bills.items()}
        return {"kind": self.kind.value, "number": self.number, "account_type": self.account_type,
                "balance_fen": self.balance_fen, "bills": bills, "credits": dict(credits or {})}


@dataclass(frozen=True, slots=True)
class Entry:
    """What a reference was first used for (``request``) and the final result stored for it.

    ``key`` and ``amount_fen`` are set only for a successful credit (what a reversal takes back).
    ``at``: when BOSS first received the request (ISO 8601, Asia/Shanghai offset). ``cancelled``:
    the reference is closed; ``request`` is ``CANCEL_ONLY`` until a credit arrives under it.
    """

    request: Request
    result: CreditResult
    key: Key | None = None
    amount_fen: Fen = 0
    at: str = ""
    cancelled: bool = False


def failed(request: Request, reference: str, reason: str) -> Entry:
    """An entry recording a final failure."""
    return Entry(request, CreditResult(ok=False, reference=reference, reason=reason))


class Books:
    """Accounts and stored results; every method runs without awaiting, hence atomically."""

    def __init__(self, auto_create: bool = True) -> None:
        self.auto_create = auto_create
        self.accounts: dict[Key, Account] = {}
        self.entries: dict[str, Entry] = {}
        self.reversed_by: dict[str, str] = {}  # original reference -> reversal reference

    def open(
        self, kind: TargetKind, number: Msisdn, account_type: AccountType = "prepaid",
        balance_fen: Fen = 0, bills: Mapping[str, Fen] | None = None,
    ) -> Account:
        due = {month: Bill(due_fen=fen) for month, fen in (bills or {}).items()}
        account = Account(kind, number, account_type, balance_fen, due)
        self.accounts[(kind, number)] = account
        return account

    def credit(
        self, request: Request, kind: TargetKind, number: Msisdn, amount_fen: Fen, reference: str,
        month: Callable[[], str],
    ) -> Entry:
        """Add to the balance; a postpaid account also pays the bill of ``month()``."""
        if amount_fen <= 0:
            return failed(request, reference, "amount must be a positive number of fen")
        account = self.accounts.get((kind, number))
        if account is None and self.auto_create:
            account = self.open(kind, number)
        if account is None:
            return failed(request, reference, NO_ACCOUNT)
        account.balance_fen += amount_fen
        result = CreditResult(ok=True, reference=reference)
        if account.account_type == "postpaid":
            bill_month = month()
            account.bills.setdefault(bill_month, Bill(due_fen=0)).paid_fen += amount_fen
            result = CreditResult(True, reference, account_type="postpaid", bill_month=bill_month)
        return Entry(request, result, key=(kind, number), amount_fen=amount_fen)

    def reverse(self, request: Request, original: str, reference: str) -> Entry:
        """Take a credit back. Refused: unknown original, not a credit, failed, already
        reversed, balance below the amount. R-23..R-25 are the ledger's business, not BOSS's."""
        orig = self.entries.get(original)
        if orig is None or orig.request[0] != "credit":
            why = "unknown original reference" if orig is None else "original is not a credit"
            return failed(request, reference, why)
        if orig.key is None:
            return failed(request, reference, "original credit failed")
        if original in self.reversed_by:
            return failed(request, reference, "original already reversed")
        account = self.accounts[orig.key]
        if account.balance_fen < orig.amount_fen:
            return failed(request, reference, "balance does not cover the amount")
        account.balance_fen -= orig.amount_fen
        month = orig.result.bill_month
        if month is not None and month in account.bills:
            account.bills[month].paid_fen -= orig.amount_fen
        self.reversed_by[original] = reference
        return Entry(request, CreditResult(True, reference, orig.result.account_type, month))

    def cancel(self, reference: str, at: str) -> tuple[CreditResult, bool]:
        """Close ``reference``: its final result, and whether the books changed.

        Applied: its ok result, nothing changes. Failed: marked cancelled, its failure stands.
        Never seen: a cancel-only entry answering ``ok=False`` reason ``cancelled``.
        """
        entry = self.entries.get(reference)
        if entry is None:
            result = CreditResult(ok=False, reference=reference, reason=CANCELLED)
            self.entries[reference] = Entry(CANCEL_ONLY, result, at=at, cancelled=True)
            return result, True
        if entry.result.ok or entry.cancelled:
            return entry.result, False
        self.entries[reference] = replace(entry, cancelled=True)
        return entry.result, True

    def credits_on(self, day: dt.date) -> list[BossCredit]:
        """Every credit request first received on ``day`` (Asia/Shanghai), in time order."""
        found: list[tuple[dt.datetime, BossCredit]] = []
        for reference, entry in self.entries.items():
            if entry.request[0] != "credit" or not entry.at:
                continue
            at = dt.datetime.fromisoformat(entry.at)
            if at.astimezone(SHANGHAI).date() == day:
                _, kind, number, amount = entry.request
                found.append((at, BossCredit(reference, TargetKind(kind), number, int(amount),
                                             entry.result.ok, entry.result.reason, entry.at)))
        return [credit for _, credit in sorted(found, key=lambda pair: pair[0])]

    def credits_of(self, key: Key) -> dict[str, Fen]:
        """The applied, not reversed, credits to the account ``key``: reference -> amount."""
        return {ref: e.amount_fen for ref, e in self.entries.items()
                if e.key == key and e.result.ok and ref not in self.reversed_by}


def check_rate(name: str, rate: float) -> float:
    """``rate`` if it is a probability, else ValueError."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {rate}")
    return rate
