"""Write coalescing: small writes that arrive while one is under way share the next transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

from ledger import Ledger

T = TypeVar("T")
R = TypeVar("R")

Outcome = Callable[[list[T], "list[R] | BaseException"], None]
"""``on_batch(items, results_or_error)``: what became of the items given by ``push``."""


class Coalescer(Generic[T, R]):
    """``await add(item)`` returns ``fn(conn, items=[...])[i]`` once its write committed.

    The first item goes to the writer at once; items added meanwhile wait and go together as
    one operation (one savepoint, one queue entry) when it returns: fewer round trips to the
    writer thread for bookkeeping such as marking SMS sent or storing delivery receipts.
    ``push(item)`` queues without a future per item: ``on_batch`` hears of the batch instead.
    """

    def __init__(self, ledger: Ledger, fn: Callable[..., list[R]],
                 on_batch: Outcome[T, R] | None = None) -> None:  # fmt: skip
        self.ledger = ledger
        self.fn = fn
        self.on_batch = on_batch
        self.writes = 0
        self._items: list[tuple[T, asyncio.Future[R] | None]] = []
        self._writing = 0
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        """Items queued and not yet written (the batch under way included)."""
        return len(self._items) + self._writing

    async def add(self, item: T) -> R:
        return await self.put(item)

    def put(self, item: T) -> asyncio.Future[R]:
        """Queue ``item``; the future is done once its write committed (or failed)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue(item, future)
        return future

    def push(self, item: T) -> None:
        """Queue ``item``; ``on_batch`` gets it with its result once its batch is written."""
        if self.on_batch is None:
            raise TypeError("push needs on_batch")
        self._queue(item, None)

    def _queue(self, item: T, future: asyncio.Future[R] | None) -> None:
        self._items.append((item, future))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def settled(self) -> None:
        """Wait until everything queued so far is written (or failed)."""
        while self._task is not None:
            await asyncio.wait({self._task})

    async def _flush(self) -> None:
        try:
            while self._items:
                batch, self._items = self._items, []
                self._writing = len(batch)
                self.writes += 1
                items = [item for item, _ in batch]
                try:
                    results = await self.ledger.writer.run(partial(self.fn, items=items))
                except Exception as exc:
                    for _, future in batch:
                        if future is not None and not future.done():
                            future.set_exception(exc)
                    self._pushed(batch, exc)
                    continue
                finally:
                    self._writing = 0
                for (_, future), result in zip(batch, results, strict=True):
                    if future is not None and not future.done():
                        future.set_result(result)
                self._pushed(batch, results)
        finally:
            self._task = None

    def _pushed(self, batch: list[tuple[T, asyncio.Future[R] | None]],
                outcome: list[R] | BaseException) -> None:  # fmt: skip
        if self.on_batch is None:
            return
        if isinstance(outcome, BaseException):
            self.on_batch([item for item, future in batch if future is None], outcome)
        else:
            self.on_batch([item for item, future in batch if future is None],
                          [r for (_, future), r in zip(batch, outcome, strict=True)
                           if future is None])  # fmt: skip
