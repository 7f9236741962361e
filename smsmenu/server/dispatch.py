"""The outbox drain: sends queued SMS through a gateway, marks them sent or schedules a retry."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import Iterable, Sequence
from functools import partial

import structlog

from ledger import Ledger, outbox
from ledger.store import Conn
from smsmenu.core.clock import iso
from smsmenu.core.errors import SmsmenuError
from smsmenu.core.types import Reply
from smsmenu.gateway.base import Gateway
from smsmenu.server.writes import Coalescer

log = structlog.get_logger("dispatch")
MAX_ATTEMPTS = 20
LEASE_S = 60
RECENT = 50_000


Sent = tuple[int, str, str, str | None]
"""An outbox row handed over: its id, the gateway, when, the far end's message id."""


def mark_sent(conn: Conn, items: list[Sent]) -> list[None]:
    """Several rows marked sent in one operation."""
    for outbox_id, gateway, now, message_id in items:
        outbox.mark_sent(conn, [outbox_id], gateway, now, [message_id])
    return [None] * len(items)


class Dispatcher:
    """Sends the outbox through the gateways: fresh replies at once, the rest when due.

    ``send_now`` takes rows a step has just committed (the engine's replies) straight to a
    gateway; ``run`` claims (leases) whatever else is due, every ``interval`` s or on ``poke``:
    notices queued elsewhere, retries, rows whose sender died. A row is never on the wire twice
    at once. Messages go round-robin over the gateways that are up; with none up they stay
    queued: a transport that is down delays SMS, never loses them.

    Rows to send wait in one queue, oldest first, for ``concurrency`` long-lived senders (no
    task per message); a row's "sent" mark is batched with others' (``Coalescer``) and not
    waited for: a row is sent once it left, and ``_done`` keeps it from going again meanwhile.

    Claims carry ``instance`` (this server's id): after a crash, ``release`` at the next start
    makes this instance's leased rows due at once; other instances' leases are left alone.
    """

    def __init__(self, ledger: Ledger, gateways: Sequence[Gateway], *, interval: float = 0.5,
                 batch: int = 100, concurrency: int = 20, retry_after: float = 5.0,
                 instance: str = "") -> None:
        self.ledger = ledger
        self.instance = instance
        self.gateways = list(gateways)
        self.interval = interval
        self.batch = batch
        self.retry_after = retry_after
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._queue: deque[Reply] = deque()
        """Rows handed over and not yet taken by a sender, oldest first."""
        self._sending: dict[int, None] = {}
        """Rows queued or on the wire."""
        self._watched: dict[int, asyncio.Future[None]] = {}
        """Rows someone waits for (``drain_once``, ``aclose``): done when their send ended."""
        self._idle: deque[asyncio.Future[None]] = deque()
        self._senders: set[asyncio.Task[None]] = set()
        self._done: dict[int, None] = {}
        """Rows sent lately (oldest first): a redelivered message's recalled replies stay put."""
        self._marks: Coalescer[Sent, None] = Coalescer(ledger, mark_sent, on_batch=self._marked)
        self._turn = 0
        self.sent = 0
        self.failed = 0

    def poke(self) -> None:
        """Something was queued: look now rather than at the next interval."""
        self._wake.set()

    def send_now(self, replies: Iterable[Reply]) -> None:
        """Rows just committed (replies with an outbox id): on their way without a claim."""
        for r in replies:
            self._start(r)

    def _start(self, reply: Reply) -> bool:
        """Queue ``reply`` (an outbox row) for a sender; False when it is no row, on its way
        already (sent now and claimed too) or was sent lately (a recalled step's reply)."""
        outbox_id = reply.outbox_id
        if outbox_id is None or outbox_id in self._sending or outbox_id in self._done:
            return False
        self._sending[outbox_id] = None
        self._queue.append(reply)
        while self._idle:
            idle = self._idle.popleft()
            if not idle.done():
                idle.set_result(None)
                return True
        if len(self._senders) < self.concurrency:
            task = asyncio.get_running_loop().create_task(self._sender())
            self._senders.add(task)
            task.add_done_callback(self._senders.discard)
        return True

    async def _sender(self) -> None:
        """Send queued rows one at a time, until cancelled (``aclose``)."""
        loop = asyncio.get_running_loop()
        queue = self._queue
        while True:
            if not queue:
                idle: asyncio.Future[None] = loop.create_future()
                self._idle.append(idle)
                await idle
                continue
            reply = queue.popleft()
            outbox_id = reply.outbox_id or 0
            try:
                await self._send(reply, outbox_id)
            except Exception as exc:  # the row stays queued and goes out again later
                log.error("outbox.send_crashed", outbox=outbox_id, error=repr(exc))
            finally:
                self._sending.pop(outbox_id, None)
                if self._watched:
                    watched = self._watched.pop(outbox_id, None)
                    if watched is not None and not watched.done():
                        watched.set_result(None)

    def _watch(self, ids: Iterable[int]) -> list[asyncio.Future[None]]:
        """Futures done when the sends of ``ids`` (those still on their way) have ended."""
        loop = asyncio.get_running_loop()
        return [self._watched.setdefault(i, loop.create_future()) for i in ids
                if i in self._sending]  # fmt: skip

    def _gateway(self) -> Gateway | None:
        gateways = self.gateways
        if len(gateways) == 1:
            return gateways[0]  # (up or not: it is the only one)
        up = [g for g in gateways if g.bound] or gateways
        if not up:
            return None
        self._turn += 1
        return up[self._turn % len(up)]

    async def drain_once(self) -> int:
        """Send what is due now; the number of messages handed to a gateway (sent or failed
        by the time it returns)."""
        due = await self._claim()
        watched = self._watch([r.outbox_id or 0 for r in due if self._start(r)])
        if watched:
            await asyncio.wait(watched)
        await self._marks.settled()
        return len(due)

    async def _claim(self) -> list[Reply]:
        if not any(g.bound for g in self.gateways):
            return []
        now = self.ledger.now()
        return await self.ledger.writer.run(partial(
            outbox.claim, now=iso(now), lease_until=iso(now + dt.timedelta(seconds=LEASE_S)),
            limit=self.batch, holder=self.instance))

    async def release(self) -> int:
        """Before ``run``: rows this instance leased in an earlier life go due now (it died or
        stopped mid-send); the number released."""
        if not self.instance:
            return 0
        released = await self.ledger.writer.run(partial(
            outbox.release, holder=self.instance, now=iso(self.ledger.now())))
        if released:
            log.info("outbox.released", instance=self.instance, rows=released)
        return released

    async def _send(self, reply: Reply, outbox_id: int) -> None:
        gateway = self._gateway()
        if gateway is None:  # no gateway at all: the row waits for its lease to end
            return
        try:
            result = await gateway.send(reply)
        except SmsmenuError as exc:
            self.failed += 1
            retry_at = iso(self.ledger.now() + dt.timedelta(seconds=self.retry_after))
            log.warning("outbox.send_failed", outbox=outbox_id, error=exc.code)
            await self.ledger.writer.run(partial(outbox.mark_retry, outbox_id=outbox_id,
                                                 next_at=retry_at, max_attempts=MAX_ATTEMPTS))
            return
        self.sent += 1
        self._done[outbox_id] = None
        if len(self._done) > RECENT:
            self._done.pop(next(iter(self._done)))
        self._marks.push((outbox_id, gateway.name, iso(self.ledger.now()), result.message_id))

    def _marked(self, items: list[Sent], outcome: list[None] | BaseException) -> None:
        if isinstance(outcome, BaseException):  # the rows stay queued and go out again later
            log.error("outbox.mark_failed", outbox=[i[0] for i in items], error=repr(outcome))

    async def run(self) -> None:
        """Drain forever (until cancelled): claim what is due, send it in the background.

        Sends are not awaited before the next claim (their rows are leased), so a row queued
        while others are on the wire goes out at the next poke, not after them. While a
        ``batch`` of rows already waits for a sender, nothing more is claimed: the queue in
        memory stays bounded when the gateways are slower than the outbox fills.
        """
        while True:
            self._wake.clear()  # before claiming: a poke that comes meanwhile is not lost
            try:
                due = await self._claim() if len(self._queue) < self.batch else []
            except SmsmenuError as exc:
                log.error("outbox.drain_failed", error=exc.code)
                due = []
            for reply in due:
                self._start(reply)
            if len(due) >= self.batch or self._wake.is_set():
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass

    async def aclose(self, grace: float = 2.0) -> None:
        """After ``run`` was cancelled: let sends on the wire and queued finish (``grace`` s),
        cancel the rest, then wait for the "sent" marks to be written (within the same grace).

        A cancelled send keeps its row queued: it goes out again at this instance's next start
        (``release``), or after its lease (at least once); so does a sent row whose mark the
        grace did not leave time to write.
        """
        loop = asyncio.get_running_loop()
        until = loop.time() + grace
        watched = self._watch(list(self._sending))
        if watched:
            await asyncio.wait(watched, timeout=grace)
        senders = list(self._senders)
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        self._queue.clear()
        self._sending.clear()
        self._watched.clear()
        try:
            await asyncio.wait_for(self._marks.settled(), max(until - loop.time(), 0.0) or 0.01)
        except TimeoutError:
            log.warning("outbox.marks_unwritten", queued=len(self._marks))
