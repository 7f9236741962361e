"""The outbox drain: sends queued SMS through a gateway, marks them sent or schedules a retry."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from functools import partial

import structlog

from ledger import Ledger, outbox
from smsmenu.clock import iso
from smsmenu.errors import SmsmenuError
from smsmenu.gateway.base import Gateway, Outbound

log = structlog.get_logger("dispatch")
MAX_ATTEMPTS = 20
LEASE_S = 60


class Dispatcher:
    """Polls the outbox (and wakes on ``poke``) and hands each due message to a gateway.

    Messages go round-robin over the gateways that are up; with none, they stay queued: a
    transport that is down delays notices, never loses them.
    """

    def __init__(self, ledger: Ledger, gateways: Sequence[Gateway], *, interval: float = 0.5,
                 batch: int = 100, concurrency: int = 20) -> None:
        self.ledger = ledger
        self.gateways = list(gateways)
        self.interval = interval
        self.batch = batch
        self._wake = asyncio.Event()
        self._turn = 0
        self._slots = asyncio.Semaphore(concurrency)
        self.sent = 0
        self.failed = 0

    def poke(self) -> None:
        """Something was queued: look now rather than at the next interval."""
        self._wake.set()

    def _gateway(self) -> Gateway | None:
        up = [g for g in self.gateways if getattr(g, "bound", True)]
        if not up:
            return None
        self._turn += 1
        return up[self._turn % len(up)]

    async def drain_once(self) -> int:
        """Send what is due now; the number of messages handed to a gateway."""
        if not any(getattr(g, "bound", True) for g in self.gateways):
            return 0
        now = self.ledger.now()
        due = await self.ledger.writer.run(partial(
            outbox.claim, now=iso(now), lease_until=iso(now + dt.timedelta(seconds=LEASE_S)),
            limit=self.batch))
        if not due:
            return 0
        await asyncio.gather(*(self._send(n) for n in due))
        return len(due)

    async def _send(self, notice: outbox.Notice) -> None:
        gateway = self._gateway()
        if gateway is None:
            return
        async with self._slots:
            try:
                result = await gateway.send(Outbound(notice.to, notice.text, notice.outbox_id))
            except SmsmenuError as exc:
                self.failed += 1
                retry_at = iso(self.ledger.now() + dt.timedelta(seconds=5))
                log.warning("outbox.send_failed", outbox=notice.outbox_id, error=exc.code)
                await self.ledger.writer.run(partial(outbox.mark_retry, outbox_id=notice.outbox_id,
                                                     next_at=retry_at, max_attempts=MAX_ATTEMPTS))
                return
        self.sent += 1
        await self.ledger.writer.run(partial(outbox.mark_sent, ids=[notice.outbox_id],
                                             gateway=gateway.name, now=iso(self.ledger.now()),
                                             message_ids=[result.message_id]))

    async def run(self) -> None:
        """Drain forever (until cancelled)."""
        while True:
            try:
                if await self.drain_once() >= self.batch:
                    continue
            except SmsmenuError as exc:
                log.error("outbox.drain_failed", error=exc.code)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
