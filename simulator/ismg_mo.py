"""The ISMG simulator's MO side: each handset's queue to logged-in receivers, redelivered until acked."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from simulator.ismg_handset import MoPart
from simulator.ismg_mt import GATEWAY_CODE, IsmgFaults, IsmgStats
from simulator.smsc_handset import Handset, MoItem
from smsmenu.gateway.smgp_codec import Status
from smsmenu.gateway.smgp_packets import Deliver, DeliverResp
from smsmenu.gateway.smgp_report import msg_id
from smsmenu.gateway.smgp_session import SmgpSession


@dataclass(eq=False)
class IsmgConn:
    """One SP connection and how it logged in (``mode`` -1 until it did)."""

    session: SmgpSession
    client_id: str = ""
    mode: int = -1

    @property
    def receives(self) -> bool:
        return self.mode in (1, 2) and not self.session.closed

    @property
    def sends(self) -> bool:
        return self.mode in (0, 2)


class IsmgMoRouter:
    """Sends Deliver round-robin over receiving links; the same MsgID on every redelivery."""

    def __init__(self, links: Callable[[], list[IsmgConn]], changed: asyncio.Condition,
                 faults: IsmgFaults, stats: IsmgStats, redeliver_after: float,
                 retry_delay: float, ids: Iterator[int]) -> None:  # fmt: skip
        self._links = links
        self._changed = changed
        self.faults = faults
        self.stats = stats
        self.redeliver_after = redeliver_after
        self.retry_delay = retry_delay
        self._turn = itertools.count()
        self._seq = ids

    async def receiver(self) -> IsmgConn:
        while True:
            ready = [c for c in self._links() if c.receives]
            if ready:
                return ready[next(self._turn) % len(ready)]
            async with self._changed:
                await self._changed.wait_for(lambda: any(c.receives for c in self._links()))

    async def run(self, phone: Handset) -> None:
        """One handset's MO and reports, in order, each retried until acknowledged."""
        while True:
            item = await phone.queue.get()
            await self.deliver(phone, item)

    def packet(self, phone: Handset, item: MoItem) -> Deliver:
        """The Deliver of a queue item, made once: its MsgID stays across redeliveries."""
        report = item.fields.get("report")
        if isinstance(report, Deliver):
            return report
        part, to = item.fields["part"], item.fields["to"]
        assert isinstance(part, MoPart) and isinstance(to, str)
        stamp = dt.datetime.now(dt.UTC)
        return Deliver(msg_id(GATEWAY_CODE, stamp, next(self._seq)), phone.msisdn, to,
                       part.content, msg_format=part.msg_format,
                       recv_time=stamp.strftime("%Y%m%d%H%M%S"), tlvs=part.tlvs)  # fmt: skip

    async def deliver(self, phone: Handset, item: MoItem) -> None:
        packet = self.packet(phone, item)
        while True:
            conn = await self.receiver()
            item.ticket.attempts += 1
            self.stats.mo_attempts += 1
            try:
                resp = await conn.session.request(packet, self.redeliver_after)
            except (TimeoutError, ConnectionError):
                resp = None
            ok = isinstance(resp, DeliverResp) and resp.status == Status.OK
            if ok and self.faults.lose_mo_acks > 0:
                self.faults.lose_mo_acks -= 1
                await asyncio.sleep(self.redeliver_after)  # the response "never came"
                ok = False
            if ok:
                item.ticket.part_acked()
                return
            self.stats.redeliveries += 1
            await asyncio.sleep(self.retry_delay)
