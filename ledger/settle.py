"""Settling a reservation with billing (BOSS): ask, then post, void, or keep it pending.

No transaction is open while billing is awaited. An outcome BOSS has not confirmed is unknown,
not failed: the reservation stays pending and ``ledger.followup`` re-sends the credit under the
same reference until BOSS answers (or cancels it, past ``[billing] give_up_after_s``). A
reservation is voided only on a confirmed refusal, a confirmed cancel, or a first send that
BOSS certainly never received (connection refused, 503).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import structlog

from ledger import boss_calls, recharge, reversal
from ledger.api import Held, Recharge, RechargeResult, ReversalResult
from ledger.audit import SYSTEM, Actor
from ledger.context import Env
from ledger.core import LedgerCore
from smsmenu.core.clock import iso
from smsmenu.core.errors import BillingError, BillingTimeout, BillingUnavailable, StorageError
from smsmenu.core.types import CreditResult, TargetKind

T = TypeVar("T")
Then = Callable[[sqlite3.Connection, Env, dt.datetime, RechargeResult], T]
"""What a caller of ``bill`` runs in billing's transaction with the recorded recharge."""
log = structlog.get_logger("ledger.settle")
Outcome = tuple[CreditResult | None, str]
"""BOSS's final result, or None with a reason code (``unavailable``: certainly not applied;
``timeout``/``unknown``: maybe applied, stays pending)."""


class Settling(LedgerCore):
    """Asks billing about one reservation and records its answer."""

    async def outcome(self, r: Recharge, fresh: bool = False) -> Outcome:
        """Billing's word on a pending recharge. ``fresh``: its reference was never sent before,
        so a BOSS that could not be reached certainly did not apply it."""
        self.inflight.add(r.reference)
        try:
            return await self._ask(r, fresh)
        finally:
            self.inflight.discard(r.reference)

    async def _ask(self, r: Recharge, fresh: bool) -> Outcome:
        not_sent = "unavailable" if fresh else "unknown"
        try:
            for earlier in r.past_references.split():  # a retry never pays twice
                found = await self.billing.status(earlier)
                if found is not None and found.ok:
                    return found, ""
        except BillingError:
            return None, not_sent
        try:
            return await self.billing.credit(TargetKind(r.kind), r.target, r.amount,
                                             r.reference), ""
        except BillingUnavailable:
            return None, not_sent
        except BillingTimeout:
            pass
        try:  # a timed-out credit may have happened: ask, and keep it pending if BOSS can't say
            found = await self.billing.status(r.reference)
        except BillingError:
            return None, "timeout"
        return (found, "") if found is not None else (None, "timeout")

    async def settle(self, held: Held | Recharge) -> RechargeResult:
        """Finish a reserved recharge; one already finished is returned as it stands."""
        r = held.recharge if isinstance(held, Held) else held
        if r.status != "pending":
            return r.result()
        try:
            return await self.bill(held if isinstance(held, Held) else Held(r, False), _same)
        except StorageError:
            return r.result(unrecorded=True)

    async def bill(self, held: Held, then: Then[T]) -> T:
        """The second half of every recharge (the menu's, the CLI's, the web's): ask billing
        with no transaction open, then record its answer and run ``then(conn, env, now,
        result)`` in ONE transaction, so what the caller writes (its replies, its session)
        commits with the money. Storage failing: the recharge stays pending, the follow-up
        finishes it, and ``StorageError`` reaches the caller."""
        r = held.recharge
        result, reason = await self.outcome(r, held.fresh)
        log.debug("recharge.billed", recharge=r.id, reference=r.reference,
                  ok=bool(result and result.ok), reason=reason or (result and result.reason))
        return await self._record(r, result, reason, then)

    async def record(self, r: Recharge, result: CreditResult | None,
                     reason: str) -> RechargeResult:
        """Record billing's answer. Storage failing: the recharge stays pending (the follow-up
        finishes it) and is reported ``pending`` with ``unrecorded``, never as failed."""
        try:
            return await self._record(r, result, reason, _same)
        except StorageError:
            return r.result(unrecorded=True)

    async def _record(self, r: Recharge, result: CreditResult | None, reason: str,
                      then: Then[T]) -> T:
        try:
            done = await self.writer.run(partial(
                _finish, env=self.env, now=self.now(), r=r, result=result, reason=reason,
                then=then))
        except StorageError:
            self.unrecorded.add(r.reference)
            log.error("recharge.unrecorded", recharge=r.id, reference=r.reference,
                      ok=bool(result and result.ok), reason=reason)
            raise
        self.unrecorded.discard(r.reference)
        return done

    async def settle_reversal(self, reversal_id: int, reference: str, original: str, *,
                              fresh: bool = False, actor: Actor = SYSTEM) -> ReversalResult:
        """Send (or re-send) a reversal; an unconfirmed answer leaves it pending. Its audit
        row names ``actor`` (the follow-up's re-sends: ``SYSTEM``)."""
        self.inflight.add(reference)
        try:
            result = await self.billing.reverse(original, reference)
        except BillingUnavailable:
            result = CreditResult(ok=False, reference=reference, reason="unavailable")
            if not fresh:
                return await self._unknown_reversal(reversal_id, reference, "unknown")
        except BillingTimeout:
            try:
                found = await self.billing.status(reference)
            except BillingError:
                found = None
            if found is None:
                return await self._unknown_reversal(reversal_id, reference, "timeout")
            result = found
        finally:
            self.inflight.discard(reference)
        return await self.op(reversal.finish, reversal_id=reversal_id, ok=result.ok,
                             reason=result.reason, actor=actor)

    async def _unknown_reversal(self, reversal_id: int, reference: str,
                                answer: str) -> ReversalResult:
        def note(conn: sqlite3.Connection, env: Env, now: dt.datetime) -> ReversalResult:
            boss_calls.record(conn, reference, answer, iso(now))
            return reversal.view(conn, reversal_id)
        return await self.op(note)


def _finish(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, r: Recharge,
            result: CreditResult | None, reason: str, then: Then[T]) -> T:
    done = recharge.finish(conn, env, now, recharge_id=r.id, reference=r.reference,
                           result=result, reason=reason)
    return then(conn, env, now, done)


def _same(conn: sqlite3.Connection, env: Env, now: dt.datetime,
          done: RechargeResult) -> RechargeResult:
    return done
