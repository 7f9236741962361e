"""Concatenated MO parts joined per (source, reference), within bounds of parts, bytes and age."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from smsmenu.gateway.smpp_text import Segment, decode

log = structlog.get_logger(__name__)

TIMEOUT_S = 120.0
MIN_TICK_S = 0.01
"""Shortest pause of the expiry timer (a clock standing still never spins it)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What the reassembly buffers may hold; a part beyond any bound is dropped with a log line."""

    parts: int = 16
    """Parts of one message: a part saying it is one of more is refused."""
    message_bytes: int = 4096
    """Payload octets of one message, all its parts together (and of any single message)."""
    total_bytes: int = 1 << 20
    """Payload octets held across every unfinished message."""
    per_source: int = 8
    """Unfinished messages of one sender."""
    messages: int = 1024
    """Unfinished messages across every sender."""


@dataclass
class _Partial:
    total: int
    data_coding: int
    started: float
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class Reassembler:
    """Buffers parts by (source, reference) until all arrived or ``timeout`` seconds passed.

    Under a running event loop a timer drops expired buffers even when no other part arrives.
    ``decode(payload, coding)`` reads the joined parts (SMPP's data_coding by default; SMGP
    passes its own for MsgFormat).
    """

    def __init__(self, timeout: float = TIMEOUT_S, now: Callable[[], float] = time.monotonic,
                 limits: Limits | None = None,
                 decode: Callable[[bytes, int], str] = decode) -> None:  # fmt: skip
        self.timeout = timeout
        self._decode = decode
        self.limits = limits or Limits()
        self.held = 0
        """Payload octets buffered now."""
        self.dropped = 0
        """Parts refused so far."""
        self._now = now
        self._pending: dict[tuple[str, int], _Partial] = {}
        self._sources: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def expire(self) -> int:
        """Drop buffers older than the timeout; return how many were dropped."""
        limit = self._now() - self.timeout
        old = [key for key, p in self._pending.items() if p.started <= limit]
        for key in old:
            self._forget(key)
        if old:
            log.info("smpp.parts_expired", messages=len(old), held=self.held)
        return len(old)

    def add(self, source: str, segment: Segment, data_coding: int, payload: bytes) -> str | None:
        """Store one part; return the whole text once every part is there, else None.

        The parts stay until ``done()``, so a redelivered last part (after the handler failed)
        completes the message again. A refused part leaves the others of its message alone.
        """
        self.expire()
        why = self._refusal(source, segment, len(payload))
        if why:
            self.dropped += 1
            log.warning("smpp.part_dropped", source=source, ref=segment.ref, why=why,
                        part=f"{segment.seqnum}/{segment.total}", octets=len(payload))  # fmt: skip
            return None
        if segment.total == 1:
            return self._decode(payload, data_coding)  # "1 of 1": a whole message with a UDH
        key = (source, segment.ref)
        partial = self._pending.get(key)
        if partial is None or partial.total != segment.total:
            if partial is not None:  # the reference was reused for another message
                self._forget(key)
            partial = self._pending[key] = _Partial(segment.total, data_coding, self._now())
            self._sources[source] += 1
            self._arm()
        growth = len(payload) - len(partial.parts.get(segment.seqnum, b""))
        partial.parts[segment.seqnum] = payload
        partial.size += growth
        self.held += growth
        if len(partial.parts) < partial.total:
            return None
        data = b"".join(partial.parts[n] for n in range(1, partial.total + 1))
        return self._decode(data, partial.data_coding)

    def _refusal(self, source: str, segment: Segment, size: int) -> str:
        """Why this part cannot be stored, or "" when it can."""
        lim, total = self.limits, segment.total
        if not 1 <= segment.seqnum <= total:
            return "part number out of range"
        if total > lim.parts:
            return f"more than {lim.parts} parts"
        partial = self._pending.get((source, segment.ref))
        same = partial is not None and partial.total == total
        old = len(partial.parts.get(segment.seqnum, b"")) if partial is not None and same else 0
        kept = partial.size - old if partial is not None and same else 0
        if kept + size > lim.message_bytes:
            return f"message over {lim.message_bytes} octets"
        if total == 1:
            return ""  # a whole message: nothing is buffered
        replaced = partial is not None and not same
        if not same:
            if self._sources[source] - replaced >= lim.per_source:
                return f"{lim.per_source} unfinished messages from this sender"
            if len(self._pending) - replaced >= lim.messages:
                return f"{lim.messages} unfinished messages"
        freed = old if same else partial.size if partial is not None else 0
        if self.held - freed + size > lim.total_bytes:
            return f"buffers full ({lim.total_bytes} octets)"
        return ""

    def done(self, source: str, segment: Segment) -> None:
        """The whole message reached the engine: forget its parts (only if it was complete)."""
        key = (source, segment.ref)
        partial = self._pending.get(key)
        if partial is not None and len(partial.parts) >= partial.total == segment.total:
            self._forget(key)

    def close(self) -> None:
        """Stop the expiry timer (the buffers stay)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _forget(self, key: tuple[str, int]) -> None:
        partial = self._pending.pop(key)
        self.held -= partial.size
        self._sources[key[0]] -= 1
        if self._sources[key[0]] <= 0:
            del self._sources[key[0]]

    def _arm(self) -> None:
        if self._timer is not None or not self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a tool, a unit test): expired when the next part arrives
        oldest = min(p.started for p in self._pending.values())
        delay = max(oldest + self.timeout - self._now(), MIN_TICK_S)
        self._timer = loop.call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self.expire()
        self._arm()
