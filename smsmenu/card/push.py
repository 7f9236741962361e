"""`push-menu` as one transaction: the card's next OTA counter, the signed packet, the outbox row."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from ledger import inside
from ledger.inside import Env
from ledger.store import card_counters
from smsmenu.core import ota
from smsmenu.core.clock import iso
from smsmenu.core.errors import UnknownCard

KIND = "ota"
"""The outbox kind of an over-the-air update."""


@dataclass(frozen=True)
class Pushed:
    """An update queued for the card on ``msisdn``: its counter, size and outbox row."""

    msisdn: str
    card: str
    counter: int
    octets: int
    outbox_id: int | None


def push_menu(conn: sqlite3.Connection, env: Env, now: dt.datetime, *, msisdn: str,
              card: str | None, patch: str) -> Pushed:
    """Queue ``patch`` for the card on ``msisdn`` (by default the card that last sent a command
    from it), signed with that card's key under its next counter; sent by the outbox drain."""
    card = (card or card_counters.latest_card(conn, msisdn=msisdn) or "").upper()
    if not card:
        raise UnknownCard(msisdn=msisdn)
    counter = card_counters.next_ota(conn, card=card, at=iso(now))
    packet = ota.build(ota.card_key(env.secret, card), counter, patch)
    row = inside.queue_sms(conn, msisdn, ota.armor(packet), KIND, iso(now))
    return Pushed(msisdn, card, counter, len(packet), row.outbox_id)
