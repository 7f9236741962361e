"""Following up reservations BOSS has not confirmed: re-send, cancel, list, reconcile.

A pending recharge is re-sent under its own reference (BOSS applies a reference once) every
``[billing] retry_every_s`` until BOSS answers applied or refused. Past
``[billing] give_up_after_s`` it is cancelled at BOSS instead; BOSS's answer to the cancel is
final either way (applied: post; cancelled: void). BOSS unreachable: it stays pending.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from contextlib import AbstractAsyncContextManager, nullcontext
from functools import partial

import structlog

from ledger import audit, reconcile, reversal
from ledger.api import RechargeResult, ReversalResult
from ledger.audit import Actor
from ledger.context import Env
from ledger.settle import Outcome, Settling
from ledger.store import queries
from ledger.store.pg import PgReader
from ledger.store.queries import Unsettled
from smsmenu.core.clock import from_iso
from smsmenu.core.errors import BillingError, SmsmenuError, StorageError

log = structlog.get_logger("ledger.followup")
PARALLEL = 10
"""Reservations followed up at once: a slow BOSS must not hold the others back."""
_COUNT = {"succeeded": "posted", "reversed": "posted", "failed": "voided"}


class FollowUp(Settling):
    """Recovery and follow-up of unconfirmed outcomes, the operator's cancel, reconciliation."""

    async def recover(self, older_than: dt.timedelta = dt.timedelta(0),
                      retry_after: dt.timedelta = dt.timedelta(0)) -> dict[str, int]:
        """Ask BOSS again about every pending reservation: those nobody asked about since they
        were made (a crash, a caller gone) once ``older_than`` old, those whose last answer
        was unknown once it is ``retry_after`` old. Counts of posted, voided and kept."""
        async with self._claim() as mine:
            if not mine:  # another instance is following up this round
                return {"posted": 0, "voided": 0, "kept": 0}
            return await self._recover(older_than, retry_after)

    def _claim(self) -> AbstractAsyncContextManager[bool]:
        """The recovery claim: on PostgreSQL one instance at a time (an advisory lock held by
        the round); SQLite's one server per file always has it."""
        if isinstance(self.reader, PgReader):
            return self.reader.exclusive("recovery")
        return nullcontext(True)

    async def _recover(self, older_than: dt.timedelta, retry_after: dt.timedelta
                       ) -> dict[str, int]:  # fmt: skip
        now = self.now()
        due = [u for u in await self.read(queries.unsettled())
               if u.reference not in self.inflight and (
                   u.reference in self.unrecorded or _due(u, now, older_than, retry_after))]
        slots = asyncio.Semaphore(PARALLEL)

        async def one(u: Unsettled) -> str:
            async with slots:
                return await self._follow(u)
        counts = {"posted": 0, "voided": 0, "kept": 0}
        for status in await asyncio.gather(*map(one, due)):
            counts[_COUNT.get(status, "kept")] += 1
        if counts["posted"] or counts["voided"]:  # a round that settled something
            log.info("recover.done", **counts)
        elif due:  # only re-asked and kept: every round while BOSS says nothing new
            log.debug("recover.done", **counts)
        return counts

    async def _follow(self, u: Unsettled) -> str:
        give_up = self.now() - from_iso(u.reserved_at) >= self.env.rules.billing_give_up
        if u.op == "reversal":
            rv = await self.op(_reversal_view, reversal_id=u.id)
            if give_up:
                result, reason = await self._cancel(u.reference)
                if result is None:
                    return (await self._unknown_reversal(u.id, u.reference, reason)).status
                done = await self.op(reversal.finish, reversal_id=u.id, ok=result.ok,
                                     reason=result.reason)
                return done.status
            original = (await self.get_recharge(rv.recharge_id)).reference
            return (await self.settle_reversal(u.id, u.reference, original)).status
        r = await self.get_recharge(u.id)
        if r.status != "pending" or r.reference != u.reference:
            return "kept"  # settled meanwhile by its own caller
        result, reason = await (self._cancel(u.reference) if give_up else self.outcome(r))
        return str((await self.record(r, result, reason)).status)

    async def _cancel(self, reference: str) -> Outcome:
        self.inflight.add(reference)
        try:
            result = await self.billing.cancel(reference)
        except BillingError:
            return None, "unknown"
        finally:
            self.inflight.discard(reference)
        log.warning("billing.cancelled", reference=reference, applied=result.ok)
        return result, ""

    async def recover_forever(self, every: float, older_than: dt.timedelta) -> None:
        """While serving: follow up every unconfirmed outcome each ``[billing] retry_every_s``
        (or ``every`` s if sooner), and reservations whose caller went away once
        ``older_than``; until cancelled. Safe beside an answer still on its way: BOSS is
        idempotent by reference and ``finish`` only acts on a pending recharge."""
        retry = self.env.rules.billing_retry
        while True:
            await asyncio.sleep(min(every, retry.total_seconds()))
            try:
                await self.recover(older_than, retry_after=retry)
            except SmsmenuError as exc:
                log.error("recover.failed", error=exc.code)

    async def cancel(self, recharge_id: int, operator: str,
                     actor: Actor | None = None) -> RechargeResult:
        """The operator closes a pending recharge at BOSS: posted if BOSS had applied it,
        voided once BOSS confirms the cancel. Billing unreachable: raises, stays pending. The
        audit row (``actor``, default ``operator`` from the shell) commits with the outcome."""
        r = await self.get_recharge(recharge_id)
        if r.status != "pending":
            return r.result()
        result = await self.billing.cancel(r.reference)
        log.warning("recharge.cancel", recharge=r.id, reference=r.reference, operator=operator,
                    applied=result.ok)
        try:
            return await self._record(r, result, "", partial(
                _cancelled, actor=actor or Actor(0, operator, "cli")))
        except StorageError:
            return r.result(unrecorded=True)

    async def pending(self) -> list[Unsettled]:
        """Every unresolved reservation with its age and BOSS's last answer."""
        return await self.read(queries.unsettled())

    async def oldest_pending_seconds(self) -> float:
        """Age of the oldest reservation still pending; 0 when there is none."""
        oldest = await self.read(queries.oldest_pending())
        return max(0.0, (self.now() - from_iso(oldest)).total_seconds()) if oldest else 0.0

    async def reconcile(self, day: dt.date) -> reconcile.Report:
        """Our recharges of ``day`` against BOSS's credits of that day (the nightly check)."""
        nearby = [day + dt.timedelta(days=d) for d in (-1, 0, 1)]
        boss = [c for d in nearby for c in await self.billing.credits(d)]
        start, end = reconcile.day_bounds(day, self.env.rules.tz)
        return await self.op(reconcile.compare, day=day, start=start, end=end, boss=boss)


def _cancelled(conn: sqlite3.Connection, env: Env, now: dt.datetime, done: RechargeResult, *,
               actor: Actor) -> RechargeResult:
    audit.record(conn, now, actor, "recharge_cancel", audit.agent_target(done.agent_id),
                 agent_id=done.agent_id, amount_fen=done.amount_fen,
                 detail={"recharge": done.reference, "target": done.target,
                         "status": str(done.status)})
    return done


def _due(u: Unsettled, now: dt.datetime, older_than: dt.timedelta,
         retry_after: dt.timedelta) -> bool:
    if u.asked_at is None:
        return from_iso(u.reserved_at) <= now - older_than
    return from_iso(u.asked_at) <= now - retry_after


def _reversal_view(conn: sqlite3.Connection, env: Env, now: dt.datetime,
                   reversal_id: int) -> ReversalResult:
    return reversal.view(conn, reversal_id)
