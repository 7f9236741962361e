"""BillingSimulator: an in-process simulated BOSS implementing ``smsmenu.types.Billing``.

Accounts are keyed by (kind, number); the books live in ``simulator.billing_state``. A credit adds
to the balance; on a postpaid account it also pays the bill of the current month (clock time taken
in Asia/Shanghai) and answers ``postpaid`` with that ``bill_month``. An unknown number gets a
prepaid account with balance 0 (``auto_create=True``) or the final failure ``"no such account"``.
Every credit or reversal is stored under its reference, failures included: the same reference
with the same request returns the stored result and never credits twice; the same reference with
another request answers ``ok=False`` (reason ``REUSED``) and changes nothing.

Faults, in this order for each call: ``down`` raises ``BillingUnavailable`` (any of the four
calls; nothing happens); ``latency`` seconds of ``asyncio.sleep``; for credit and reverse only, a
timeout (queued by ``timeout_next`` or drawn at ``timeout_rate``) raises ``BillingTimeout``:
AFTER applying the call when ``applied`` (drawn at ``timeout_applies``, default 0.5), touching
nothing otherwise, and changing nothing for an already stored reference. Last, only for a new
reference, a failure (``fail_next`` or ``failure_rate``) stores ``ok=False`` with reason
``"simulated failure"``. So ``BillingUnavailable`` means "certainly not applied" and
``BillingTimeout`` "maybe applied: ask ``status``". Draws use ``random.Random(seed)``; with latency
0 a run is deterministic and each call is atomic (no await between reading and writing the books).
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Mapping

from simulator.billing_state import (
    SHANGHAI,
    Account,
    AccountType,
    Bill,
    Books,
    Entry,
    Request,
    ShanghaiClock,
    check_rate,
    failed,
)
from smsmenu.errors import BillingTimeout, BillingUnavailable
from smsmenu.types import Clock, CreditResult, Fen, Msisdn, TargetKind

__all__ = ["Account", "Bill", "BillingSimulator", "ShanghaiClock"]

SIMULATED_FAILURE = "simulated failure"
REUSED = "reference already used for a different request"


class BillingSimulator:
    """A simulated BOSS. ``latency``, ``failure_rate``, ``timeout_rate``, ``timeout_applies``,
    ``down`` and ``clock`` are plain attributes a tester may change at any time."""

    def __init__(
        self, *, clock: Clock | None = None, latency: float = 0.0, failure_rate: float = 0.0,
        timeout_rate: float = 0.0, timeout_applies: float = 0.5, seed: int | None = 0,
        auto_create: bool = True,
    ) -> None:
        self.clock: Clock = clock or ShanghaiClock()
        self.latency = latency
        self.failure_rate = check_rate("failure_rate", failure_rate)
        self.timeout_rate = check_rate("timeout_rate", timeout_rate)
        self.timeout_applies = check_rate("timeout_applies", timeout_applies)
        self.down = False
        self.rng = random.Random(seed)
        self.books = Books(auto_create)
        self._fail_next = 0
        self._timeouts: deque[bool] = deque()

    # -- tester controls -------------------------------------------------------------------
    def open_account(
        self, kind: TargetKind | str, number: Msisdn, account_type: AccountType = "prepaid",
        balance_fen: Fen = 0, bills: Mapping[str, Fen] | None = None,
    ) -> Account:
        """Open (or replace) an account; ``bills`` maps ``YYYY-MM`` to the amount due in fen."""
        if account_type not in ("prepaid", "postpaid"):
            raise ValueError(f"account_type must be prepaid or postpaid, got {account_type!r}")
        return self.books.open(TargetKind(kind), number, account_type, balance_fen, bills)

    def account(self, kind: TargetKind | str, number: Msisdn) -> Account | None:
        """The live account (a tester may edit it, e.g. spend its balance), or None."""
        return self.books.accounts.get((TargetKind(kind), number))

    def set_failure(self, rate: float) -> None:
        """Fail new credits and reversals with probability ``rate``."""
        self.failure_rate = check_rate("failure_rate", rate)

    def fail_next(self, n: int = 1) -> None:
        """The next ``n`` new credits or reversals fail with ``"simulated failure"``."""
        self._fail_next += n

    def timeout_next(self, n: int = 1, applied: bool = False) -> None:
        """The next ``n`` credit/reverse calls raise ``BillingTimeout``, applied or not."""
        self._timeouts.extend([applied] * n)

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

    # -- internals -------------------------------------------------------------------------
    async def _arrive(self) -> None:
        if self.down:
            raise BillingUnavailable()
        if self.latency > 0:
            await asyncio.sleep(self.latency)
            if self.down:
                raise BillingUnavailable()

    def _draw_timeout(self) -> bool | None:
        if self._timeouts:
            return self._timeouts.popleft()
        if self.timeout_rate > 0 and self.rng.random() < self.timeout_rate:
            return self.rng.random() < self.timeout_applies
        return None

    def _draw_failure(self) -> bool:
        if self._fail_next > 0:
            self._fail_next -= 1
            return True
        return self.failure_rate > 0 and self.rng.random() < self.failure_rate

    async def _call(
        self, reference: str, request: Request, apply: Callable[[], Entry]
    ) -> CreditResult:
        await self._arrive()
        timeout = self._draw_timeout()
        known = self.books.entries.get(reference)
        if timeout is False or (timeout and known is not None):
            raise BillingTimeout()
        if known is not None:
            if known.request != request:
                return CreditResult(ok=False, reference=reference, reason=REUSED)
            return known.result
        if self._draw_failure():
            entry = failed(request, reference, SIMULATED_FAILURE)
        else:
            entry = apply()
        self.books.entries[reference] = entry
        if timeout:
            raise BillingTimeout()
        return entry.result

    def _month(self) -> str:
        now = self.clock.now()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now.astimezone(SHANGHAI).strftime("%Y-%m")
