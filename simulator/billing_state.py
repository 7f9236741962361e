"""The simulated BOSS's books: customer accounts, monthly bills, results stored by reference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from smsmenu.types import CreditResult, Fen, Msisdn, TargetKind

AccountType = Literal["prepaid", "postpaid"]
Key = tuple[TargetKind, Msisdn]
Request = tuple[str, ...]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NO_ACCOUNT = "no such account"


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

    def as_json(self) -> dict[str, object]:
        """The account in the simulator's HTTP wire format."""
        bills = {m: {"due_fen": b.due_fen, "paid_fen": b.paid_fen} for m, b in self.bills.items()}
        return {"kind": self.kind.value, "number": self.number, "account_type": self.account_type,
                "balance_fen": self.balance_fen, "bills": bills}


@dataclass(frozen=True, slots=True)
class Entry:
    """What a reference was first used for (``request``) and the final result stored for it.

    ``key`` and ``amount_fen`` are set only for a successful credit (what a reversal takes back).
    """

    request: Request
    result: CreditResult
    key: Key | None = None
    amount_fen: Fen = 0


def failed(request: Request, reference: str, reason: str) -> Entry:
    """An entry recording a final failure."""
    return Entry(request, CreditResult(ok=False, reference=reference, reason=reason))


class Books:
    """Accounts and stored results; every method runs without awaiting, hence atomically."""

    def __init__(self, auto_create: bool) -> None:
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


def check_rate(name: str, rate: float) -> float:
    """``rate`` if it is a probability, else ValueError."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {rate}")
    return rate
