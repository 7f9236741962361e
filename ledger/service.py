"""The ledger as callers see it; here the two-phase operations that call billing (BOSS).

No transaction is open while billing is awaited. A reservation whose outcome was never recorded
(a crash, a cancelled caller) is resolved by ``recover``, which asks billing for the status of
its reference: never silently kept, never silently dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial
from typing import Any

import structlog

from ledger import queries, recharge, reversal
from ledger.core import LedgerCore
from ledger.recharge import Recharge
from smsmenu.clock import from_iso
from smsmenu.errors import BillingError, BillingTimeout, BillingUnavailable, SmsmenuError
from smsmenu.types import CreditResult, TargetKind

log = structlog.get_logger("ledger.settle")


class Ledger(LedgerCore):
    """Every business operation (open, deposit, recharge, retry, reversal, close...) as a method."""

    async def recharge(self, **kw: Any) -> dict[str, Any]:
        """Reserve, ask billing, post or void (R-13..R-17). A repeated key never pays twice."""
        return await self.settle(await self.op(recharge.begin, **kw))

    async def retry(self, **kw: Any) -> dict[str, Any]:
        """R-18: complete a failed recharge; one that meanwhile succeeded is not paid twice."""
        return await self.settle(await self.op(recharge.begin_retry, **kw))

    async def outcome(self, r: Recharge) -> tuple[CreditResult | None, str]:
        """Billing's final word on a pending recharge, or (None, reason code) when it has none."""
        try:
            for earlier in r.past_references.split():  # a retry never pays twice
                found = await self.billing.status(earlier)
                if found is not None and found.ok:
                    return found, ""
            return await self.billing.credit(TargetKind(r.kind), r.target, r.amount,
                                             r.reference), ""
        except BillingUnavailable:
            return None, "unavailable"
        except BillingTimeout:
            pass
        try:  # a timed-out credit may have happened: ask before giving up
            found = await self.billing.status(r.reference)
        except BillingError:
            return None, "timeout"
        if found is None:
            return None, "timeout"
        return found, ""

    async def settle(self, r: Recharge) -> dict[str, Any]:
        """Finish a reserved recharge; one already finished is returned as it stands."""
        if r.status != "pending":
            return {**r.as_dict(), "notices": []}
        result, reason = await self.outcome(r)
        log.debug("recharge.billed", recharge=r.id, reference=r.reference,
                 ok=bool(result and result.ok), reason=reason or (result and result.reason))
        return await self.op(recharge.finish, recharge_id=r.id, reference=r.reference,
                             result=result, reason=reason)

    async def reversal_checks(self, recharge_id: int) -> list[tuple[str, bool | None]]:
        """R-23..R-25 check by check, with the customer's balance asked of billing."""
        r = await self.get_recharge(recharge_id)
        try:
            balance: int | None = await self.billing.balance(TargetKind(r.kind), r.target)
        except BillingError:
            balance = None
        return await self.op(partial(reversal.checks, r=r, customer_balance=balance))

    async def reverse(self, *, key: str, recharge_id: int,
                      operator: str) -> dict[str, Any]:
        """Reverse a recharge if every R-23..R-25 check passes; each refusal names its rule."""
        r = await self.get_recharge(recharge_id)
        balance = await self.billing.balance(TargetKind(r.kind), r.target)
        rv = await self.op(reversal.begin, key=key, recharge_id=recharge_id, operator=operator,
                           customer_balance=balance)
        return await self._settle_reversal(rv["id"], rv["reference"], r.reference)

    async def _settle_reversal(self, reversal_id: int, reference: str,
                               original: str) -> dict[str, Any]:
        try:
            result = await self.billing.reverse(original, reference)
        except BillingUnavailable:
            result = CreditResult(ok=False, reference=reference, reason="unavailable")
        except BillingTimeout:
            result = await self.billing.status(reference) or CreditResult(
                ok=False, reference=reference, reason="timeout")
        return await self.op(reversal.finish, reversal_id=reversal_id, ok=result.ok,
                             reason=result.reason)

    async def recover(self, older_than: dt.timedelta = dt.timedelta(0)) -> dict[str, int]:
        """Resolve reservations left pending (crash, cancelled caller) by asking billing."""
        cutoff = self.now() - older_than
        counts = {"posted": 0, "voided": 0, "kept": 0}
        for r in await self.read(queries.pending_recharges()):
            if from_iso(r.created_at) > cutoff:
                continue
            try:
                found = await self.billing.status(r.reference)
            except BillingError:
                counts["kept"] += 1
                log.warning("recover.billing_unreachable", recharge=r.id)
                continue
            if found is None:  # billing never saw it: safe to credit now, as the agent asked
                done = await self.settle(r)
            else:
                done = await self.op(recharge.finish, recharge_id=r.id, reference=r.reference,
                                     result=found)
            counts["posted" if done["status"] == "succeeded" else "voided"] += 1
        for reversal_id, reference in await self.read(queries.pending_reversals()):
            rv = await self.op(partial(_reversal_view, reversal_id=reversal_id))
            original = (await self.get_recharge(rv["recharge_id"])).reference
            done = await self._settle_reversal(reversal_id, reference, original)
            counts["posted" if done["status"] == "succeeded" else "voided"] += 1
        log.info("recover.done", **counts)
        return counts

    async def recover_forever(self, every: float, older_than: dt.timedelta) -> None:
        """While serving: resolve reservations whose caller went away (a dropped request, a
        cancelled task) once they are ``older_than``; every ``every`` seconds, until cancelled.
        Safe beside an answer still on its way: billing is idempotent by reference and
        ``finish`` only acts on a pending recharge."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.recover(older_than)
            except SmsmenuError as exc:
                log.error("recover.failed", error=exc.code)


def _reversal_view(conn: Any, env: Any, now: Any, reversal_id: int) -> dict[str, Any]:
    return reversal.view(conn, reversal_id)
