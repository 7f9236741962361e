"""Where the engine meets the outbox: replies leave at commit, delivery receipts land on their rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable
from functools import partial

import structlog

from ledger import Ledger, outbox
from smsmenu.states.engine import DIRECT, Engine
from smsmenu.states.steps import Outcome
from smsmenu.types import Inbound, Reply
from smsmenu.writes import Coalescer

log = structlog.get_logger("server")


class WakingEngine(Engine):
    """The engine, handing each step's SMS to the outbox drain the moment the step committed.

    ``on_queued`` (e.g. ``Dispatcher.send_now``) gets the replies that wait in the outbox, so a
    reply leaves within milliseconds of the commit instead of at the drain's next look; replies
    a channel hands over itself (HTTP, the USSD screen) are left out.
    """

    def __init__(self, ledger: Ledger, *, on_queued: Callable[[list[Reply]], None],
                 idle_timeout: dt.timedelta = dt.timedelta(seconds=180)) -> None:
        super().__init__(ledger, idle_timeout=idle_timeout)
        self.on_queued = on_queued

    async def handle(self, msg: Inbound) -> Outcome:
        out = await super().handle(msg)
        direct = DIRECT.get(msg.channel, "")
        if direct != "all":
            queued = [r for r in out.replies
                      if r.outbox_id is not None and not (direct and r.to == msg.msisdn)]
            if queued:
                self.on_queued(queued)
        return out


Receipt = tuple[str, str]
"""A delivery receipt: the message id it reports on and its state (``DELIVRD``...)."""


def record_receipts(conn: sqlite3.Connection, items: list[Receipt]) -> list[bool]:
    """Several receipts stored in one operation; whether each found its row."""
    return [outbox.record_receipt(conn, message_id, stat) for message_id, stat in items]


class ReceiptBook:
    """``on_receipt`` for gateways: stores delivery receipts on their outbox rows.

    The SMSC's receipt is acknowledged at once and stored a moment later, batched with others
    (``Coalescer``): a receipt is no money, and an SMSC often queues a handset's next MO behind
    it. ``aclose`` finishes what was acknowledged. A receipt can overtake our own note of the
    message id (the SMSC answers submit_sm, then reports at once): an unmatched one is tried
    once more ``retry_after`` s later.
    """

    def __init__(self, ledger: Ledger, retry_after: float = 1.0) -> None:
        self.ledger = ledger
        self.retry_after = retry_after
        self.stored = 0
        self.unmatched = 0
        self._writes: Coalescer[Receipt, bool] = Coalescer(ledger, record_receipts)
        self._pending: set[asyncio.Future[bool]] = set()
        self._later: dict[Receipt, asyncio.TimerHandle] = {}
        self._closing = False

    async def __call__(self, message_id: str, stat: str, raw: str = "") -> None:
        if message_id and stat:
            self._put((message_id, stat), first=True)

    def _put(self, receipt: Receipt, first: bool) -> None:
        future = self._writes.put(receipt)
        self._pending.add(future)
        future.add_done_callback(partial(self._stored, receipt, first))

    def _stored(self, receipt: Receipt, first: bool, future: asyncio.Future[bool]) -> None:
        self._pending.discard(future)
        if future.cancelled() or future.exception() is not None:  # the ledger is closing
            why = "cancelled" if future.cancelled() else repr(future.exception())
            log.warning("receipt.dropped", message_id=receipt[0], error=why)
        elif future.result():
            self.stored += 1
        elif first and not self._closing:
            loop = asyncio.get_running_loop()
            self._later[receipt] = loop.call_later(self.retry_after, self._again, receipt)
        else:
            self.unmatched += 1
            log.debug("receipt.unmatched", message_id=receipt[0], stat=receipt[1])

    def _again(self, receipt: Receipt) -> None:
        self._later.pop(receipt, None)
        if not self._closing:
            self._put(receipt, first=False)

    async def aclose(self) -> None:
        """Store what was acknowledged; drop second tries still waiting (parts' receipts)."""
        self._closing = True
        for handle in self._later.values():
            handle.cancel()
        self._later.clear()
        if self._pending:
            await asyncio.wait(set(self._pending))
