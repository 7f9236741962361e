"""The ledger as callers see it: every business operation, billing included, as a method."""

from __future__ import annotations

from functools import partial

from ledger import recharge, reversal
from ledger.api import RechargeRequest, RechargeResult, ReversalResult
from ledger.audit import Actor
from ledger.followup import FollowUp
from ledger.store.queries import scalar
from smsmenu.core.errors import BillingError
from smsmenu.core.types import TargetKind


class Ledger(FollowUp):
    """Every business operation (open, deposit, recharge, retry, reversal, close...) as a method."""

    async def recharge(self, request: RechargeRequest) -> RechargeResult:
        """Reserve, ask billing, post or void (R-13..R-17). A repeated key never pays twice."""
        return await self.settle(await self.op(recharge.begin, request=request))

    async def retry(self, *, key: str, msisdn: str, recharge_id: int,
                    tx_password: str) -> RechargeResult:
        """R-18: complete a failed recharge; one that meanwhile succeeded is not paid twice."""
        return await self.settle(await self.op(recharge.begin_retry, key=key, msisdn=msisdn,
                                               recharge_id=recharge_id, tx_password=tx_password))

    async def reversal_checks(self, recharge_id: int) -> list[tuple[str, bool | None]]:
        """R-23..R-25 check by check, with the customer's balance asked of billing."""
        r = await self.get_recharge(recharge_id)
        try:
            balance: int | None = await self.billing.balance(TargetKind(r.kind), r.target)
        except BillingError:
            balance = None
        return await self.op(partial(reversal.checks, r=r, customer_balance=balance))

    async def reverse(self, *, key: str, recharge_id: int,
                      operator: str, actor: Actor | None = None) -> ReversalResult:
        """Reverse a recharge if every R-23..R-25 check passes; each refusal names its rule.
        ``actor`` (default: ``operator`` from the shell) is who the audit rows name."""
        actor = actor or Actor(0, operator, "cli")
        r = await self.get_recharge(recharge_id)
        balance = await self.billing.balance(TargetKind(r.kind), r.target)
        # A repeated key returns the first reversal, which BOSS may have seen: not fresh.
        repeated = await self.read(scalar("SELECT 1 FROM idempotency WHERE key = ?", key))
        rv = await self.op(reversal.begin, key=key, recharge_id=recharge_id, operator=operator,
                           customer_balance=balance, actor=actor)
        if rv.status != "pending":
            return rv
        if rv.reference in self.inflight:  # its first caller is asking BOSS right now
            return rv
        return await self.settle_reversal(rv.id, rv.reference, r.reference,
                                          fresh=repeated is None, actor=actor)
