"""The menu engine: one entry point from (msisdn, text) to replies, transport-free."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import deque
from contextlib import suppress
from functools import partial

import structlog

from ledger import Ledger
from ledger.api import Held
from smsmenu.core.errors import StorageError
from smsmenu.core.types import Channel, Inbound, Reply
from smsmenu.server.metrics import Metrics
from smsmenu.states import steps
from smsmenu.states.menu import build_machine

DIRECT = {Channel.HTTP: "all", Channel.WEB: "all", Channel.USSD: "agent"}
"""Replies a channel's transport hands over itself (see ``steps._remember``); SMS: none."""
log = structlog.get_logger("engine")


class Turns:
    """One holder per key at a time; the others wait in the order they asked (FIFO hand-over).

    ``await take(key)`` then ``give(key)`` (in a ``finally``). The first to ask takes its turn
    at once, without suspending; ``give`` hands the turn straight to the next waiter, so no
    later arrival can overtake one that waits. Keys nobody holds take no memory.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    def __len__(self) -> int:
        """Keys held now."""
        return len(self._waiting)

    async def take(self, key: str) -> None:
        waiting = self._waiting.get(key)
        if waiting is None:
            self._waiting[key] = deque()
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting.append(turn)
        try:
            await turn
        except BaseException:  # cancelled while waiting, or just after the turn was given
            if turn.done() and not turn.cancelled():
                self.give(key)  # it was ours: pass it on
            else:
                with suppress(ValueError):
                    waiting.remove(turn)
            raise

    def give(self, key: str) -> None:
        waiting = self._waiting[key]
        while waiting:
            turn = waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        del self._waiting[key]


class Engine:
    """Runs the shared menu machine on each agent's session, one message at a time per agent.

    This is the one place that orders an agent's messages, whatever their channel: each is
    stepped in its ``turn``, in the order ``handle`` was called. A transport keeps arrival order
    by calling ``handle`` in that order: the turn is asked for before ``handle`` first suspends.
    """

    def __init__(self, ledger: Ledger, *, idle_timeout: dt.timedelta = dt.timedelta(seconds=180),
                 metrics: Metrics | None = None) -> None:
        self.ledger = ledger
        self.metrics = metrics or Metrics()
        self.idle_timeout = idle_timeout
        self.machine = build_machine()
        self.turns = Turns()
        """Per agent (msisdn): the message being stepped, the others waiting in order."""

    async def handle(self, msg: Inbound) -> steps.Outcome:
        """Apply one message; returns once its step (and any money effect) has committed."""
        started = time.perf_counter()
        self.metrics.messages_in.labels(msg.channel.value).inc()
        try:
            return await self._handle(msg)
        finally:
            self.metrics.step_seconds.labels(msg.channel.value).observe(
                time.perf_counter() - started)

    async def _handle(self, msg: Inbound) -> steps.Outcome:
        direct = DIRECT.get(msg.channel, "")
        await self.turns.take(msg.msisdn)  # before any suspension: arrival order holds
        try:
            out = await self.ledger.transaction(partial(
                steps.step, machine=self.machine, msg=msg, idle=self.idle_timeout, direct=direct))
            if out.pending is None:
                log.debug("menu.step", msisdn=msg.msisdn, channel=msg.channel.value,
                         replies=len(out.replies))
                return out
            r, unrecorded = out.pending, out.unrecorded
            try:
                out = await self.ledger.bill(Held(r, out.fresh), partial(steps.finish, msg=msg,
                                                                         direct=direct))
            except StorageError:
                # The money step's outcome could not be recorded: the reservation stays
                # pending and the follow-up settles it; the agent is told the result follows
                # by SMS, never to try again. SMS: not acknowledged, the SMSC redelivers it.
                log.error("menu.recharge_unrecorded", msisdn=msg.msisdn, recharge=r.id)
                self.metrics.recharges.labels("unrecorded", r.kind).inc()
                if not direct:
                    raise
                return steps.Outcome([Reply(msg.msisdn, unrecorded)], final=True)
            self.metrics.recharges.labels(out.status, r.kind).inc()
            log.info("menu.recharge", msisdn=msg.msisdn, recharge=r.id, status=out.status,
                     failure=out.failure)
            return out
        finally:
            self.turns.give(msg.msisdn)

    async def prune(self, older_than: dt.timedelta) -> int:
        """Forget the answers to message keys older than ``older_than``; how many were dropped.

        A redelivery comes within minutes; keys kept for days only grow the database.
        """
        return await self.ledger.transaction(partial(steps.prune_inbox, older_than=older_than))

    async def prune_forever(self, older_than: dt.timedelta, every: float = 600.0) -> None:
        """Prune now and then every ``every`` seconds, until cancelled."""
        while True:
            dropped = await self.prune(older_than)
            if dropped:
                log.info("inbox.pruned", dropped=dropped)
            await asyncio.sleep(every)

    async def __call__(self, msg: Inbound) -> list[Reply]:
        """The engine as an ``InboundHandler`` for transports."""
        return (await self.handle(msg)).replies
