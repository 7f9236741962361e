"""BillingSimulator: an in-process simulated BOSS implementing ``smsmenu.core.types.Billing``.

Accounts are keyed by (kind, number); the books live in ``simulator.billing_state``. A credit adds
to the balance; on a postpaid account it also pays the bill of the current month (clock time taken
in Asia/Shanghai) and answers ``postpaid`` with that ``bill_month``. An unknown number gets a
prepaid account with balance 0 (``auto_create=True``) or the final failure ``"no such account"``.
Every credit or reversal is stored under its reference, failures included, with the time BOSS
first received it: the same reference with the same request returns the stored result and never
credits twice; the same reference with another request answers ``ok=False`` (reason ``REUSED``)
and changes nothing. Faults (``simulator.billing_faults``) apply to the four original calls.

``cancel(reference)`` closes a reference for good: an applied one answers its ok result (nothing is
cancelled); a failed one keeps its failure; a never-seen one answers ``ok=False`` reason
``"cancelled"``. Any later credit under a closed reference answers that same final result and
applies nothing; the books are read after the latency sleep, so a credit asleep when the cancel
lands is refused too. Cancel, like status, is subject to ``down`` and ``latency`` only (no timeout
or failure draws: to make it time out at a client, set latency above the client's timeout).
``credits(day)`` lists the credit requests first received on that Shanghai day. ``on_change``, when
set, is called with the books after every change to them, before the call returns (persistence).
Each call is atomic: no await between reading and writing the books.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import replace

from simulator.billing_faults import Faults
from simulator.billing_state import (
    CANCEL_ONLY,
    CANCELLED,
    SHANGHAI,
    Account,
    AccountType,
    Bill,
    Books,
    Entry,
    Request,
    ShanghaiClock,
    failed,
)
from smsmenu.core.errors import BillingTimeout, BillingUnavailable
from smsmenu.core.types import BossCredit, Clock, CreditResult, Fen, Msisdn, TargetKind

__all__ = ["CANCELLED", "Account", "Bill", "BillingSimulator", "Books", "ShanghaiClock"]

SIMULATED_FAILURE = "simulated failure"
REUSED = "reference already used for a different request"


class BillingSimulator(Faults):
    """A simulated BOSS. The fault dials, ``clock``, ``books`` and ``on_change`` are plain
    attributes a tester may change at any time."""

    def __init__(
        self, *, clock: Clock | None = None, latency: float = 0.0, failure_rate: float = 0.0,
        timeout_rate: float = 0.0, timeout_applies: float = 0.5, seed: int | None = 0,
        auto_create: bool = True,
    ) -> None:
        super().__init__(latency=latency, failure_rate=failure_rate, timeout_rate=timeout_rate,
                         timeout_applies=timeout_applies, seed=seed)
        self.clock: Clock = clock or ShanghaiClock()
        self.books = Books(auto_create)
        self.on_change: Callable[[Books], None] | None = None

    # -- tester controls -------------------------------------------------------------------
    def open_account(
        self, kind: TargetKind | str, number: Msisdn, account_type: AccountType = "prepaid",
        balance_fen: Fen = 0, bills: Mapping[str, Fen] | None = None,
    ) -> Account:
        """Open (or replace) an account; ``bills`` maps ``YYYY-MM`` to the amount due in fen."""
        if account_type not in ("prepaid", "postpaid"):
            raise ValueError(f"account_type must be prepaid or postpaid, got {account_type!r}")
        account = self.books.open(TargetKind(kind), number, account_type, balance_fen, bills)
        self._changed()
        return account

    def account(self, kind: TargetKind | str, number: Msisdn) -> Account | None:
        """The live account (a tester may edit it, e.g. spend its balance), or None."""
        return self.books.accounts.get((TargetKind(kind), number))

    # -- the Billing protocol --------------------------------------------------------------
    async def credit(
        self, kind: TargetKind, number: Msisdn, amount_fen: Fen, reference: str
    ) -> CreditResult:
        kind = TargetKind(kind)
        request = ("credit", kind.value, number, str(amount_fen))
        return await self._call(reference, request, lambda: self.books.credit(
            request, kind, number, amount_fen, reference, self._month))

    async def reverse(self, original_reference: str, reference: str) -> CreditResult:
        request = ("reverse", original_reference)
        return await self._call(reference, request, lambda: self.books.reverse(
            request, original_reference, reference))

    async def status(self, reference: str) -> CreditResult | None:
        await self._arrive()
        entry = self.books.entries.get(reference)
        return entry.result if entry else None

    async def balance(self, kind: TargetKind, number: Msisdn) -> Fen:
        """The balance in fen; 0 for an unknown number (which is not created)."""
        await self._arrive()
        account = self.books.accounts.get((TargetKind(kind), number))
        return account.balance_fen if account else 0

    async def cancel(self, reference: str) -> CreditResult:
        at = self._received()
        await self._arrive()
        result, changed = self.books.cancel(reference, at)
        if changed:
            self._changed()
        return result

    async def credits(self, day: dt.date) -> list[BossCredit]:
        await self._arrive()
        return self.books.credits_on(day)

    # -- internals -------------------------------------------------------------------------
    async def _call(
        self, reference: str, request: Request, apply: Callable[[], Entry]
    ) -> CreditResult:
        at = self._received()
        await self._arrive()  # the books are read after the sleep: a cancel meanwhile counts
        timeout = self._draw_timeout()
        known = self.books.entries.get(reference)
        if timeout is False or (timeout and known is not None):
            raise BillingTimeout()
        if known is not None:
            if known.cancelled:
                if known.request == CANCEL_ONLY and request[0] == "credit":
                    del self.books.entries[reference]  # listed in the order received
                    self.books.entries[reference] = replace(known, request=request, at=at)
                    self._changed()  # the first credit under a cancelled reference, refused
                return known.result
            if known.request != request:
                return CreditResult(ok=False, reference=reference, reason=REUSED)
            return known.result
        if self._draw_failure():
            entry = failed(request, reference, SIMULATED_FAILURE)
        else:
            entry = apply()
        self.books.entries[reference] = replace(entry, at=at)
        self._changed()
        if timeout:
            raise BillingTimeout()
        return entry.result

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.books)

    def _received(self) -> str:
        """When a write was received (``down`` refuses it first: it never was)."""
        if self.down:
            raise BillingUnavailable()
        return self._now().isoformat()

    def _now(self) -> dt.datetime:
        now = self.clock.now()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now.astimezone(SHANGHAI)

    def _month(self) -> str:
        return self._now().strftime("%Y-%m")
