"""The outbox drain's senders and the receipt book, against a real ledger: bounded, ordered, durable."""

from __future__ import annotations

import asyncio
from functools import partial

from ledger import Ledger, outbox
from ledger.store.queries import scalar
from smsmenu.core.clock import iso
from smsmenu.core.types import Reply
from smsmenu.gateway.base import Gateway, SendResult
from smsmenu.server.dispatch import Dispatcher
from smsmenu.server.wiring import ReceiptBook


class Held(Gateway):
    """Takes messages and holds each until released; records the order and the peak at once."""

    name = "held"

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.inside = 0
        self.most_inside = 0
        self.gate = asyncio.Event()

    async def send(self, message: Reply) -> SendResult:
        self.taken.append(message.text)
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            await self.gate.wait()
        finally:
            self.inside -= 1
        return SendResult(f"m-{message.outbox_id}")


async def queued(ledger: Ledger, n: int) -> list[Reply]:
    """``n`` rows committed in the outbox, as a step's replies report them."""
    now = iso(ledger.now())
    rows = [await ledger.writer.run(partial(outbox.enqueue, to="18900000001", text=f"t{i}",
                                            kind="menu", now=now)) for i in range(n)]  # fmt: skip
    return [Reply(r.to, r.text, r.outbox_id) for r in rows]


async def count(ledger: Ledger, where: str) -> int:
    return int(await ledger.read(scalar(f"SELECT COUNT(*) FROM outbox WHERE {where}")))


async def test_replies_go_in_order_at_most_concurrency_at_once_each_once(ledger: Ledger) -> None:
    """Fresh replies wait for a free sender, oldest first; a row handed over twice goes once;
    every row is marked sent, with its message id, by the time aclose returns."""
    gateway = Held()
    dispatcher = Dispatcher(ledger, [gateway], concurrency=3)
    replies = await queued(ledger, 10)
    dispatcher.send_now(replies)
    dispatcher.send_now(replies[:4])  # on their way already: not again
    for _ in range(100):
        await asyncio.sleep(0)
    assert (gateway.taken, gateway.inside) == (["t0", "t1", "t2"], 3)
    gateway.gate.set()
    await dispatcher.aclose(grace=5)
    assert gateway.taken == [f"t{i}" for i in range(10)]
    assert gateway.most_inside == 3 and len(dispatcher._senders) == 0
    assert dispatcher.sent == 10
    assert await count(ledger, "status = 'sent' AND message_id = 'm-' || id") == 10
    dispatcher.send_now(replies[:1])  # sent lately: a recalled step's reply stays put
    assert dispatcher.sent == 10 and gateway.taken.count("t0") == 1


async def test_drain_once_returns_when_its_rows_are_sent_and_marked(ledger: Ledger) -> None:
    gateway = Held()
    gateway.gate.set()
    dispatcher = Dispatcher(ledger, [gateway])
    await queued(ledger, 5)
    assert await dispatcher.drain_once() == 5
    assert await count(ledger, "status = 'sent'") == 5
    assert await dispatcher.drain_once() == 0
    await dispatcher.aclose()


async def test_a_send_cut_short_by_aclose_leaves_its_row_queued(ledger: Ledger) -> None:
    gateway = Held()  # never released
    dispatcher = Dispatcher(ledger, [gateway])
    dispatcher.send_now(await queued(ledger, 2))
    for _ in range(20):
        await asyncio.sleep(0)
    await dispatcher.aclose(grace=0.01)
    assert gateway.taken == ["t0", "t1"] and dispatcher.sent == 0
    assert await count(ledger, "status = 'queued'") == 2


async def test_receipts_land_late_ones_once_more_unknown_ones_are_given_up(ledger: Ledger) -> None:
    """Receipts are stored in batches; one that overtook our note of its message id is tried
    once more ``retry_after`` later; beyond ``limit`` waiting, ``note`` refuses."""
    [first, second] = await queued(ledger, 2)
    assert first.outbox_id is not None and second.outbox_id is not None
    now = iso(ledger.now())
    await ledger.writer.run(partial(outbox.mark_sent, ids=[first.outbox_id], gateway="g",
                                    now=now, message_ids=["a"]))  # fmt: skip
    book = ReceiptBook(ledger, retry_after=0.05)
    assert book.note("a", "DELIVRD") and book.note("b", "DELIVRD") and book.note("zz", "UNDELIV")
    await asyncio.sleep(0.01)
    await ledger.writer.run(partial(outbox.mark_sent, ids=[second.outbox_id], gateway="g",
                                    now=now, message_ids=["b"]))  # fmt: skip
    for _ in range(100):
        if book.stored + book.unmatched == 3:
            break
        await asyncio.sleep(0.01)
    assert (book.stored, book.unmatched) == (2, 1)
    assert await count(ledger, "receipt = 'DELIVRD'") == 2
    book.limit = 0
    assert not book.note("a", "DELIVRD") and book.refused == 1
    await book.aclose()


async def test_the_drain_claims_no_more_while_a_batch_waits_for_senders(ledger: Ledger) -> None:
    """A slow gateway and a full outbox: rows wait in the database, not in memory."""
    gateway = Held()
    dispatcher = Dispatcher(ledger, [gateway], batch=5, concurrency=2, interval=0.01,
                            instance="node")
    await queued(ledger, 30)
    drain = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0.2)
    assert len(gateway.taken) == 2 and len(dispatcher._queue) < 2 * 5  # claimed below 5, then 5
    assert await count(ledger, "claimed_by IS NULL") == 30 - 2 - len(dispatcher._queue)
    gateway.gate.set()
    for _ in range(300):
        if dispatcher.sent == 30:
            break
        await asyncio.sleep(0.01)
    drain.cancel()
    await asyncio.gather(drain, return_exceptions=True)
    await dispatcher.aclose()
    assert sorted(gateway.taken) == sorted(f"t{i}" for i in range(30))
    assert await count(ledger, "status = 'sent'") == 30
