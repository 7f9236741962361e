"""Where the gateways meet the outbox: delivery receipts land on their rows, batched."""

from __future__ import annotations

import asyncio
import itertools

import structlog

from ledger import Ledger, outbox
from ledger.store import Conn
from smsmenu.server.writes import Coalescer

log = structlog.get_logger("server")


Receipt = tuple[str, str]
"""A delivery receipt: the message id it reports on and its state (``DELIVRD``...)."""


def record_receipts(conn: Conn, items: list[Receipt]) -> list[bool]:
    """Several receipts stored in one operation; whether each found its row."""
    return [outbox.record_receipt(conn, message_id, stat) for message_id, stat in items]


class ReceiptBook:
    """``on_receipt`` for gateways: stores delivery receipts on their outbox rows.

    The SMSC's receipt is acknowledged at once and stored a moment later, batched with others
    (``Coalescer``): a receipt is no money, and an SMSC often queues a handset's next MO behind
    it. ``note`` takes one without waiting (the SMPP receiver calls it in its reading turn);
    beyond ``limit`` receipts waiting to be stored it refuses (the SMSC delivers it again
    later). ``aclose`` finishes what was acknowledged. A receipt can overtake our own note of
    the message id (the SMSC answers submit_sm, then reports at once): an unmatched one is tried
    once more ``retry_after`` s later, with the others of its batch.
    """

    def __init__(self, ledger: Ledger, retry_after: float = 1.0, limit: int = 10_000) -> None:
        self.ledger = ledger
        self.retry_after = retry_after
        self.limit = limit
        self.stored = 0
        self.unmatched = 0
        self.refused = 0
        self._writes: Coalescer[Receipt, bool] = Coalescer(ledger, record_receipts,
                                                           on_batch=self._stored)
        self._second: set[Receipt] = set()
        """Receipts on their second try: unmatched again, they are given up."""
        self._later: dict[int, asyncio.TimerHandle] = {}
        self._batches = itertools.count()
        self._closing = False

    async def __call__(self, message_id: str, stat: str, raw: str = "") -> None:
        self.note(message_id, stat, raw)

    def note(self, message_id: str, stat: str, raw: str = "") -> bool:
        """Take a receipt to store; False (not taken) when ``limit`` already wait."""
        if not (message_id and stat):
            return True
        if len(self._writes) >= self.limit:
            self.refused += 1
            return False
        self._writes.push((message_id, stat))
        return True

    def _stored(self, receipts: list[Receipt], outcome: list[bool] | BaseException) -> None:
        if isinstance(outcome, BaseException):  # the ledger is closing
            for receipt in receipts:
                self._second.discard(receipt)
                log.warning("receipt.dropped", message_id=receipt[0], error=repr(outcome))
            return
        again = []
        for receipt, found in zip(receipts, outcome, strict=True):
            if found:
                self.stored += 1
                self._second.discard(receipt)
            elif receipt in self._second or self._closing:
                self._second.discard(receipt)
                self.unmatched += 1
                log.debug("receipt.unmatched", message_id=receipt[0], stat=receipt[1])
            else:
                again.append(receipt)
        if again:
            self._second.update(again)
            n = next(self._batches)
            self._later[n] = asyncio.get_running_loop().call_later(
                self.retry_after, self._again, n, again)

    def _again(self, n: int, receipts: list[Receipt]) -> None:
        self._later.pop(n, None)
        if not self._closing:
            for receipt in receipts:
                self._writes.push(receipt)

    async def aclose(self) -> None:
        """Store what was acknowledged; drop second tries still waiting (parts' receipts)."""
        self._closing = True
        for handle in self._later.values():
            handle.cancel()
        self._later.clear()
        await self._writes.settled()
