"""Per-sender serialization of MO: one message of a handset at the engine at a time, a bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

PER_SOURCE = 8
"""deliver_sm of one sender held at once (one at the handler, the rest waiting their turn)."""


class SenderQueues:
    """``async with queues.turn(source) as admitted``: in arrival order, one at a time per source.

    ``admitted`` is False (and nothing waits) when ``per_source`` messages of that source are
    already held: the caller answers ESME_RX_T_APPN and the SMSC delivers it again later.
    """

    def __init__(self, per_source: int = PER_SOURCE) -> None:
        self.per_source = per_source
        self._serial: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        """Sources with a message held."""
        return len(self._serial)

    @asynccontextmanager
    async def turn(self, source: str) -> AsyncIterator[bool]:
        lock, users = self._serial.get(source, (asyncio.Lock(), 0))
        if users >= self.per_source:
            yield False
            return
        self._serial[source] = (lock, users + 1)
        try:
            async with lock:
                yield True
        finally:
            lock, users = self._serial[source]
            if users <= 1:
                del self._serial[source]
            else:
                self._serial[source] = (lock, users - 1)
