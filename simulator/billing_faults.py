"""Faults: the fault dials of the simulated BOSS (down, latency, timeouts, failures) and their draws.

In this order for each call: ``down`` raises ``BillingUnavailable`` (nothing happens); ``latency``
seconds of ``asyncio.sleep`` (then ``down`` is checked again); for credit and reverse only, a
timeout (queued by ``timeout_next`` or drawn at ``timeout_rate``) raises ``BillingTimeout``: AFTER
applying the call when ``applied`` (drawn at ``timeout_applies``, default 0.5), touching nothing
otherwise, and changing nothing for an already stored reference. Last, only for a new reference,
a failure (``fail_next`` or ``failure_rate``) stores ``ok=False`` with reason ``"simulated
failure"``. So ``BillingUnavailable`` means "certainly not applied" and ``BillingTimeout`` "maybe
applied: ask ``status``". Draws use ``random.Random(seed)``; with latency 0 a run is deterministic.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque

from simulator.billing_state import check_rate
from smsmenu.core.errors import BillingUnavailable


class Faults:
    """The dials: ``latency``, ``failure_rate``, ``timeout_rate``, ``timeout_applies`` and ``down``
    are plain attributes a tester may change at any time (``POST /faults`` does)."""

    def __init__(
        self, *, latency: float, failure_rate: float, timeout_rate: float,
        timeout_applies: float, seed: int | None,
    ) -> None:
        self.latency = latency
        self.failure_rate = check_rate("failure_rate", failure_rate)
        self.timeout_rate = check_rate("timeout_rate", timeout_rate)
        self.timeout_applies = check_rate("timeout_applies", timeout_applies)
        self.down = False
        self.rng = random.Random(seed)
        self._fail_next = 0
        self._timeouts: deque[bool] = deque()

    def set_failure(self, rate: float) -> None:
        """Fail new credits and reversals with probability ``rate``."""
        self.failure_rate = check_rate("failure_rate", rate)

    def fail_next(self, n: int = 1) -> None:
        """The next ``n`` new credits or reversals fail with ``"simulated failure"``."""
        self._fail_next += n

    def timeout_next(self, n: int = 1, applied: bool = False) -> None:
        """The next ``n`` credit/reverse calls raise ``BillingTimeout``, applied or not."""
        self._timeouts.extend([applied] * n)

    async def _arrive(self) -> None:
        if self.down:
            raise BillingUnavailable()
        if self.latency > 0:
            await asyncio.sleep(self.latency)
            if self.down:
                raise BillingUnavailable()

    def _draw_timeout(self) -> bool | None:
        if self._timeouts:
            return self._timeouts.popleft()
        if self.timeout_rate > 0 and self.rng.random() < self.timeout_rate:
            return self.rng.random() < self.timeout_applies
        return None

    def _draw_failure(self) -> bool:
        if self._fail_next > 0:
            self._fail_next -= 1
            return True
        return self.failure_rate > 0 and self.rng.random() < self.failure_rate
