"""Write coalescing: small writes that arrive while one is under way share the next transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

from ledger import Ledger

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """``await add(item)`` returns ``fn(conn, items=[...])[i]`` once its write committed.

    The first item goes to the writer at once; items added meanwhile wait and go together as
    one operation (one savepoint, one queue entry) when it returns: fewer round trips to the
    writer thread for bookkeeping such as marking SMS sent or storing delivery receipts.
    """

    def __init__(self, ledger: Ledger, fn: Callable[..., list[R]]) -> None:
        self.ledger = ledger
        self.fn = fn
        self.writes = 0
        self._items: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def add(self, item: T) -> R:
        return await self.put(item)

    def put(self, item: T) -> asyncio.Future[R]:
        """Queue ``item``; the future is done once its write committed (or failed)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._items.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._flush())
        return future

    async def _flush(self) -> None:
        try:
            while self._items:
                batch, self._items = self._items, []
                self.writes += 1
                items = [item for item, _ in batch]
                try:
                    results = await self.ledger.writer.run(partial(self.fn, items=items))
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._task = None
