"""The SMSC simulator's MO side: each handset's queue to bound receivers, retried until acked."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from simulator.smsc_handset import Handset, MoItem
from simulator.smsc_mt import Faults, Stats
from smsmenu.gateway.smpp_codec import ROK
from smsmenu.gateway.smpp_session import SmppSession


@dataclass(eq=False)
class Conn:
    """One ESME connection and what it bound as (``trx``, ``tx``, ``rx``; empty until bound)."""

    session: SmppSession
    system_id: str = ""
    mode: str = ""

    @property
    def receives(self) -> bool:
        return self.mode in ("trx", "rx") and not self.session.closed


class MoRouter:
    """Sends deliver_sm round-robin over receivers; redelivers after ``redeliver_after`` s."""

    def __init__(
        self,
        binds: Callable[[], list[Conn]],
        changed: asyncio.Condition,
        faults: Faults,
        stats: Stats,
        redeliver_after: float,
        retry_delay: float,
    ) -> None:
        self._binds = binds
        self._changed = changed
        self.faults = faults
        self.stats = stats
        self.redeliver_after = redeliver_after
        self.retry_delay = retry_delay
        self._turn = itertools.count()

    async def receiver(self, avoid: Conn | None = None) -> Conn:
        """The next bound receiving ESME, round-robin, other than ``avoid`` (the bind that did
        not acknowledge) while another is bound; waits while there is none."""
        while True:
            ready = [c for c in self._binds() if c.receives]
            if avoid is not None and len(ready) > 1:
                ready = [c for c in ready if c is not avoid]
            if ready:
                return ready[next(self._turn) % len(ready)]
            async with self._changed:
                await self._changed.wait_for(lambda: any(c.receives for c in self._binds()))

    async def run(self, phone: Handset) -> None:
        """One handset's MO and receipts, in order, each retried until acknowledged."""
        while True:
            item = await phone.queue.get()
            await self.deliver(item)

    async def deliver(self, item: MoItem) -> None:
        """Deliver ``item`` until a bind acknowledges it; a redelivery goes to another bind
        where there is one (as SMSCs spread retries over an ESME's binds)."""
        failed: Conn | None = None
        while True:
            conn = await self.receiver(failed)
            item.ticket.attempts += 1
            self.stats.mo_attempts += 1
            session = conn.session
            try:
                pdu = session.make("deliver_sm", **item.fields)
                resp = await session.request(pdu, item.tlvs, self.redeliver_after)
            except (TimeoutError, ConnectionError):
                resp = None
            if resp is not None and resp.status == ROK and self.faults.lose_mo_acks > 0:
                self.faults.lose_mo_acks -= 1
                await asyncio.sleep(self.redeliver_after)  # the response "never came"
                resp = None
            if resp is not None and resp.status == ROK:
                item.ticket.part_acked()
                return
            self.stats.redeliveries += 1
            failed = conn
            await asyncio.sleep(self.retry_delay)
