"""A UTK card's commands in a step: applied once by counter, a copy answered with fresh SMS."""

from __future__ import annotations

import datetime as dt
import sqlite3

from ledger import inside
from ledger.store import card_counters
from smsmenu.core.clock import iso
from smsmenu.core.types import Delivery, Inbound, Reply


def is_card(msg: Inbound) -> bool:
    """The message is a card's command (``commands.keyed`` found its tag)."""
    return "card" in msg.meta


def fresh_counter(conn: sqlite3.Connection, msg: Inbound, billing_key: str | None,
                  now: dt.datetime) -> bool:
    """A card's command is applied once: its counter must be above the newest applied from
    that card (its remembered answer, checked before, is what a copy gets). The one exception
    is the command whose billing answer was never recorded (``billing_key``: the key the
    session waits on): sent again, it gets the recharge's outcome."""
    if not is_card(msg) or billing_key == msg.key:
        return True
    return card_counters.advance(conn, msisdn=msg.msisdn, card=msg.meta["card"],
                                 counter=int(msg.meta["counter"]), at=iso(now))


def replay(conn: sqlite3.Connection, msg: Inbound, replies: list[Reply], now: dt.datetime,
           direct: str) -> list[Reply]:
    """The remembered answer to a card's command sent again: the card resends when no answer
    reached the agent, so the agent's replies go out again as new SMS (the notices to other
    numbers, sent before, do not)."""
    if not is_card(msg):
        return replies
    fresh = [Reply(msg.msisdn, r.text, inside.queue_sms(conn, msg.msisdn, r.text, "menu",
                                                        iso(now)).outbox_id)
             for r in replies if r.to == msg.msisdn]
    if direct:
        ids = [r.outbox_id for r in Delivery(direct).own(fresh, msg.msisdn)
               if r.outbox_id is not None]
        inside.mark_sent(conn, ids, msg.channel.value, iso(now))
    return fresh + [r for r in replies if r.to != msg.msisdn]
