"""The engine's per-agent turn: one holder per agent, the others in the order they asked."""

from __future__ import annotations

import asyncio

import pytest

from smsmenu.gateway.base import SenderBusy
from smsmenu.states.engine import Turns

pytestmark = pytest.mark.both_engines


async def test_turns_are_taken_in_the_order_asked_and_other_keys_run_meanwhile() -> None:
    turns, order = Turns(), []
    gate = asyncio.Event()

    async def step(key: str, n: int) -> None:
        await turns.take(key)
        try:
            order.append((key, n))
            await gate.wait()
        finally:
            turns.give(key)

    tasks = [asyncio.create_task(step("a", n)) for n in range(5)]
    tasks.append(asyncio.create_task(step("b", 0)))
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == [("a", 0), ("b", 0)]  # a's others wait; b is not held up by a
    gate.set()
    await asyncio.gather(*tasks)
    assert [n for key, n in order if key == "a"] == [0, 1, 2, 3, 4]
    assert len(turns) == 0


async def test_the_first_to_ask_takes_the_turn_without_suspending() -> None:
    """What makes arrival order hold: a free turn is taken before ``take`` yields."""
    turns = Turns()
    coro = turns.take("a")
    with pytest.raises(StopIteration):
        coro.send(None)
    assert len(turns) == 1
    turns.give("a")
    assert len(turns) == 0


async def test_a_waiter_cancelled_before_or_after_its_turn_came_blocks_nobody() -> None:
    turns, order = Turns(), []

    async def step(n: int) -> None:
        await turns.take("a")
        try:
            order.append(n)
        finally:
            turns.give("a")

    await turns.take("a")  # held here
    cancelled_early = asyncio.create_task(step(1))
    given_then_cancelled = asyncio.create_task(step(2))
    last = asyncio.create_task(step(3))
    await asyncio.sleep(0)
    cancelled_early.cancel()
    await asyncio.sleep(0)
    turns.give("a")  # to step 2 ...
    given_then_cancelled.cancel()  # ... which is cancelled before it runs: passed on to 3
    await asyncio.gather(cancelled_early, given_then_cancelled, last, return_exceptions=True)
    assert order == [3]
    assert cancelled_early.cancelled() and given_then_cancelled.cancelled()
    assert len(turns) == 0


async def test_beyond_per_key_held_a_take_is_refused_at_once() -> None:
    """At most ``per_key`` per key (holder and waiters): the next ``take`` raises ``SenderBusy``
    without waiting; other keys, and the same key once a place is free, are taken as before."""
    turns = Turns(per_key=3)
    await turns.take("a")
    waiters = [asyncio.create_task(turns.take("a")) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(SenderBusy):
        await turns.take("a")
    await turns.take("b")  # another number is not held up
    turns.give("b")
    turns.give("a")  # to the first waiter: a place is free again
    await waiters[0]
    late = asyncio.create_task(turns.take("a"))
    await asyncio.sleep(0)
    assert not late.done()  # waiting, not refused
    turns.give("a")
    await waiters[1]
    turns.give("a")
    await late
    turns.give("a")
    assert len(turns) == 0
