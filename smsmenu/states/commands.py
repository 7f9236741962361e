"""The one-line command form a UTK card can send: a whole recharge, balance or retry in one SMS.

    CZ*KIND*NUMBER*AMOUNT[*NOTICE]*PASSWORD   recharge (KIND 1-4 as in the menu, or its name)
    YE*PASSWORD                               balance (R-21)
    CF*REF*PASSWORD                           retry failed recharge REF (单号, R-18; the
                                              plain id of old SMS still works this release)

``RC``, ``BAL`` and ``RETRY`` are English aliases; fields may be separated by ``*``, ``#`` or
spaces. A money command is known by its fields less the password: the same fields sent again
within 10 minutes of the first copy (a redelivery, or a double send) get the first result, once
the password checks out again (``steps.line_key``: the window slides from the first copy).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from smsmenu.core.errors import InvalidCommand
from smsmenu.core.texts import Texts, packaged
from smsmenu.core.types import TargetKind
from smsmenu.states.checks import KINDS

VERBS = {"CZ": "recharge", "RC": "recharge", "YE": "balance", "BAL": "balance",
         "CF": "retry", "RETRY": "retry"}
_HEAD = re.compile(r"^([A-Za-z]+)\s*[*#\s]")
_SPLIT = re.compile(r"[*#\s]+")
WINDOW_S = 600


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
    wanted = {"recharge": (4, 5), "balance": (1, 1), "retry": (2, 2)}[verb]
    if not wanted[0] <= len(args) <= wanted[1]:
        raise InvalidCommand(why=usage(verb, lang))
    return Command(verb, args)
