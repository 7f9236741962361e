"""The inbound pipeline: every transport's messages, one number at a time, into the menu engine."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from typing import Any

import structlog

from ledger import Ledger, inside
from ledger.api import Held
from ledger.numberplan import NumberPlan
from smsmenu.core.clock import iso
from smsmenu.core.errors import StorageError
from smsmenu.core.metrics import Metrics
from smsmenu.core.texts import Texts, packaged
from smsmenu.core.types import Channel, Delivery, Inbound, Msisdn, Reply
from smsmenu.gateway.base import SenderBusy, sender_msisdn
from smsmenu.states import commands, steps
from smsmenu.states.menu import build_machine

LEASE = dt.timedelta(seconds=60)
"""How long the replies a step sends at once stay leased to its instance (``instance``)."""
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
    (``Channel.delivery``) go to ``on_queued`` (the outbox drain's ``send_now``). With several
    instances on one database (``instance`` set), those rows are leased to this instance in the
    step's own transaction, so no other instance's drain claims them while this one sends them.
    """

    def __init__(self, ledger: Ledger, *, idle_timeout: dt.timedelta = dt.timedelta(seconds=180),
                 metrics: Metrics | None = None,
                 on_queued: Callable[[list[Reply]], None] | None = None,
                 plan: NumberPlan | None = None, per_sender: int = PER_SENDER,
                 texts: Texts | None = None, instance: str = "",
                 billing_hold: dt.timedelta = steps.BILLING_HOLD) -> None:
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
        self.instance = instance
        """This server's id on the database ("" : one instance, nothing to lease)."""
        self.billing_hold = billing_hold
        """How long a money step's session says "being billed by this instance": at least
        billing's timeout, so another instance never takes it for a crash's leftover."""
        m = self.metrics
        self._per_channel = {c: (m.messages_in.labels(c.value), m.step_seconds.labels(c.value))
                             for c in Channel}
        """Each channel's labelled counter and histogram, looked up once (not per message)."""

    def sender(self, raw: str) -> Msisdn | None:
        """The number a transport's sender address names; None when it names no phone."""
        return sender_msisdn(raw, self.plan)

    async def handle(self, msg: Inbound) -> steps.Outcome:
        """Apply one message; returns once its step (and any money effect) has committed.

        Raises ``SenderBusy`` at once when ``per_sender`` messages of its number are held."""
        started = time.perf_counter()
        msg = commands.keyed(msg)  # a UTK card's command: its card counter is the key
        msisdn, channel = msg.msisdn, msg.channel
        await self.turns.take(msisdn)  # before any suspension: arrival order holds
        messages_in, step_seconds = self._per_channel[channel]
        messages_in.inc()
        delivery = channel.delivery
        try:
            out = await self._step(msg, delivery)
        finally:
            self.turns.give(msisdn)
            step_seconds.observe(time.perf_counter() - started)
        if self.on_queued is not None:
            queued = delivery.queued(out.replies, msisdn)
            if queued:
                self.on_queued(queued)
        return out

    __call__ = handle
    """The engine as the transports' ``InboundHandler``."""

    async def _step(self, msg: Inbound, delivery: Delivery) -> steps.Outcome:
        """The step, and for a money step billing's answer recorded; in the number's turn."""
        out = await self.ledger.transaction(self._leased(partial(
            steps.step, machine=self.machine, msg=msg, idle=self.idle_timeout, direct=delivery,
            texts=self.texts, instance=self.instance, hold=self.billing_hold), msg.msisdn,
            delivery))
        if out.pending is None:
            log.debug("menu.step", msisdn=msg.msisdn, channel=msg.channel.value,
                      replies=len(out.replies))
            return out
        r, unrecorded = out.pending, out.unrecorded
        try:
            out = await self.ledger.bill(Held(r, out.fresh), self._leased(partial(
                steps.finish, msg=msg, direct=delivery, texts=self.texts), msg.msisdn, delivery))
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

    def _leased(self, fn: Callable[..., steps.Outcome], sender: Msisdn,
                delivery: Delivery) -> Callable[..., steps.Outcome]:
        """``fn`` (a step run on the writer's connection) that also leases, in its transaction,
        the rows ``on_queued`` will send at once; ``fn`` itself with one instance."""
        if not self.instance or self.on_queued is None:
            return fn
        holder = self.instance

        def leased(conn: Any, *args: Any) -> steps.Outcome:
            out = fn(conn, *args)
            ids = [r.outbox_id for r in delivery.queued(out.replies, sender) if r.outbox_id]
            if ids:
                now = args[1] if len(args) > 1 else self.ledger.now()
                inside.lease_sms(conn, ids, holder, iso(now + LEASE))
            return out

        return leased

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
