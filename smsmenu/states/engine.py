"""The inbound pipeline: every transport's messages, one number at a time, into the menu engine."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from functools import partial

import structlog

from ledger import Ledger
from ledger.api import Held
from ledger.numberplan import NumberPlan
from smsmenu.core.errors import StorageError
from smsmenu.core.metrics import Metrics
from smsmenu.core.texts import Texts, packaged
from smsmenu.core.types import Delivery, Inbound, Msisdn, Reply
from smsmenu.gateway.base import SenderBusy, sender_msisdn
from smsmenu.states import steps
from smsmenu.states.menu import build_machine

PER_SENDER = 8
"""Messages of one number held at once, over all channels: one stepped, the rest waiting."""
log = structlog.get_logger("engine")


class Turns:
    """One holder per key at a time; the others wait in the order they asked (FIFO hand-over),
    at most ``per_key`` in all (the holder included): beyond, ``take`` raises ``SenderBusy``.

    ``await take(key)`` then ``give(key)`` (in a ``finally``). The first to ask takes its turn
    at once, without suspending; ``give`` hands the turn straight to the next waiter, so no
    later arrival can overtake one that waits. Keys nobody holds take no memory.
    """

    def __init__(self, per_key: int = PER_SENDER) -> None:
        self.per_key = per_key
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    def __len__(self) -> int:
        """Keys held now."""
        return len(self._waiting)

    async def take(self, key: str) -> None:
        waiting = self._waiting.get(key)
        if waiting is None:
            self._waiting[key] = deque()
            return
        if len(waiting) + 1 >= self.per_key:
            raise SenderBusy(why=f"{self.per_key} messages of this number are waiting already")
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
    """The one ``InboundHandler``: runs the shared menu machine on each agent's session, one
    message at a time per number, whatever the channel.

    ``sender`` cleans a transport's sender address (``sender_msisdn`` with ``plan``). This is
    the one place that orders a number's messages: each is stepped in its ``turn`` (bounded:
    ``per_sender``), in the order ``handle`` was called. A transport keeps arrival order by
    calling it in that order: the turn is asked for before ``handle`` first suspends. Menu
    sessions are per (agent, channel); the turn is per number, so an agent's SMS and USSD
    never step at once (they share the balance, the lockout and the duplicate window).
    Once a step committed, the replies its channel does not hand over itself
    (``Channel.delivery``) go to ``on_queued`` (the outbox drain's ``send_now``).
    """

    def __init__(self, ledger: Ledger, *, idle_timeout: dt.timedelta = dt.timedelta(seconds=180),
                 metrics: Metrics | None = None,
                 on_queued: Callable[[list[Reply]], None] | None = None,
                 plan: NumberPlan | None = None, per_sender: int = PER_SENDER,
                 texts: Texts | None = None) -> None:
        self.ledger = ledger
        self.texts = texts or packaged()
        """The menu's words (by default the shipped ones)."""
        self.metrics = metrics or Metrics()
        self.idle_timeout = idle_timeout
        self.on_queued = on_queued
        self.plan = plan
        self.machine = build_machine()
        self.turns = Turns(per_sender)
        """Per number: the message being stepped, the others waiting in order."""

    def sender(self, raw: str) -> Msisdn | None:
        """The number a transport's sender address names; None when it names no phone."""
        return sender_msisdn(raw, self.plan)

    async def handle(self, msg: Inbound) -> steps.Outcome:
        """Apply one message; returns once its step (and any money effect) has committed.

        Raises ``SenderBusy`` at once when ``per_sender`` messages of its number are held."""
        started = time.perf_counter()
        msisdn, channel = msg.msisdn, msg.channel
        await self.turns.take(msisdn)  # before any suspension: arrival order holds
        self.metrics.messages_in.labels(channel.value).inc()
        delivery = channel.delivery
        try:
            out = await self._step(msg, delivery)
        finally:
            self.turns.give(msisdn)
            self.metrics.step_seconds.labels(channel.value).observe(
                time.perf_counter() - started)
        if self.on_queued is not None:
            queued = delivery.queued(out.replies, msisdn)
            if queued:
                self.on_queued(queued)
        return out

    __call__ = handle
    """The engine as the transports' ``InboundHandler``."""

    async def _step(self, msg: Inbound, delivery: Delivery) -> steps.Outcome:
        """The step, and for a money step billing's answer recorded; in the number's turn."""
        out = await self.ledger.transaction(partial(
            steps.step, machine=self.machine, msg=msg, idle=self.idle_timeout, direct=delivery,
            texts=self.texts))
        if out.pending is None:
            log.debug("menu.step", msisdn=msg.msisdn, channel=msg.channel.value,
                      replies=len(out.replies))
            return out
        r, unrecorded = out.pending, out.unrecorded
        try:
            out = await self.ledger.bill(Held(r, out.fresh), partial(
                steps.finish, msg=msg, direct=delivery, texts=self.texts))
        except StorageError:
            # The money step's outcome could not be recorded: the reservation stays pending
            # and the follow-up settles it; the agent is told the result follows by SMS, never
            # to try again. SMS: not acknowledged, the SMSC redelivers it.
            log.error("menu.recharge_unrecorded", msisdn=msg.msisdn, recharge=r.id)
            self.metrics.recharges.labels("unrecorded", r.kind, msg.channel.value).inc()
            if delivery is Delivery.OUTBOX:
                raise
            return steps.Outcome([Reply(msg.msisdn, unrecorded)], final=True)
        self.metrics.recharges.labels(out.status, r.kind, msg.channel.value).inc()
        log.info("menu.recharge", msisdn=msg.msisdn, recharge=r.id, status=out.status,
                 failure=out.failure)
        return out

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
