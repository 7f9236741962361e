"""The one-line command form a UTK card can send: a whole recharge, balance or retry in one SMS.

    CZ*KIND*NUMBER*AMOUNT[*NOTICE]*PASSWORD   recharge (KIND 1-4 as in the menu, or its name)
    YE*PASSWORD                               balance (R-21)
    CF*REF*PASSWORD                           retry failed recharge REF (单号, R-18; the
                                              plain id of old SMS still works this release)
    MM*1*OLD*NEW  /  MM*2*OLD*NEW             change the transaction / management password (R-21)
    ZJ*PASSWORD                               recent recharges (R-21)

A command sent by the UTK card ends with its tag ``#UTK<CARD>-<COUNTER>`` (``CARD``: the
card's id, 4-16 hex digits; ``COUNTER``: 1-10 digits, one higher for each new command, the same
when the card sends a command again). ``keyed`` makes the tag the message key,
``card:<sender>:<CARD>:<COUNTER>``: the first answer is replayed to a copy, and a counter not
above the newest applied from that card is never applied (``steps``).

``RC``, ``BAL``, ``RETRY``, ``PWD`` and ``REC`` are English aliases; fields may be separated
by ``*``, ``#`` or spaces. A money command is known by its fields less the password: the same
fields sent again within 10 minutes of the first copy (a redelivery, or a double send) get the
first result, once the password checks out again (``steps.line_key``: the window slides from the first copy).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

from smsmenu.core.errors import InvalidCommand
from smsmenu.core.texts import Texts, packaged
from smsmenu.core.types import Inbound, TargetKind
from smsmenu.states.checks import KINDS

VERBS = {"CZ": "recharge", "RC": "recharge", "YE": "balance", "BAL": "balance",
         "CF": "retry", "RETRY": "retry", "MM": "password", "PWD": "password",
         "ZJ": "records", "REC": "records"}
_HEAD = re.compile(r"^([A-Za-z]+)\s*[*#\s]")
_SPLIT = re.compile(r"[*#\s]+")
_TAG = re.compile(r"\s*#UTK([0-9A-F]{4,16})-([0-9]{1,10})$", re.IGNORECASE)
WINDOW_S = 600
_ARGS = {"recharge": (4, 5), "balance": (1, 1), "retry": (2, 2), "password": (3, 3),
         "records": (1, 1)}
MONEY = ("recharge", "retry")
"""Verbs that move money: their key guards against charging twice."""


def usage(verb: str, lang: str = "zh", texts: Texts | None = None) -> str:
    """A command's syntax in the agent's language (``[usage]``), for the error that quotes it."""
    return str((texts or packaged()).get("en" if lang == "en" else "zh", f"usage.{verb}"))


@dataclass(frozen=True)
class Command:
    verb: str
    args: list[str]

    def digest(self) -> str:
        """What identifies the command: verb and fields without the password (last), whose
        hash could be brute-forced."""
        return hashlib.sha256(" ".join([self.verb, *self.args[:-1]]).encode()).hexdigest()[:20]

    def kind(self, lang: str = "zh") -> TargetKind:
        raw = self.args[0].lower()
        if raw in {"1", "2", "3", "4"}:
            return KINDS[int(raw) - 1]
        try:
            return TargetKind(raw)
        except ValueError:
            raise InvalidCommand(why=usage("recharge", lang)) from None


def parse(text: str, lang: str = "zh") -> Command | None:
    """A command if ``text`` starts with a known verb, else None (a menu key press)."""
    head = _HEAD.match(text.strip())
    if head is None or head.group(1).upper() not in VERBS:
        return None
    verb = VERBS[head.group(1).upper()]
    args = [a for a in _SPLIT.split(text.strip()[head.end():]) if a]
    wanted = _ARGS[verb]
    if not wanted[0] <= len(args) <= wanted[1]:
        raise InvalidCommand(why=usage(verb, lang))
    return Command(verb, args)


@dataclass(frozen=True)
class CardTag:
    """The tag a UTK card puts after its command: which card, and its command counter."""

    card: str
    counter: int

    def key(self, msisdn: str) -> str:
        """The message key of the tagged command (and the money key of a recharge or retry)."""
        return f"card:{msisdn}:{self.card}:{self.counter}"


def card_tag(text: str) -> tuple[str, CardTag | None]:
    """The command without its card tag, and the tag (None: no card sent ``text``)."""
    found = _TAG.search(text.strip())
    if found is None:
        return text, None
    return text.strip()[:found.start()], CardTag(found.group(1).upper(), int(found.group(2)))


def keyed(msg: Inbound) -> Inbound:
    """A card's command under its card key (durable: the card sends it again under the same
    one), its tag in ``meta`` (``card``, ``counter``); any other message unchanged."""
    text, tag = card_tag(msg.text)
    if tag is None:
        return msg
    return replace(msg, text=text, key=tag.key(msg.msisdn), durable_key=True,
                   meta={**msg.meta, "card": tag.card, "counter": str(tag.counter)})
