"""The engine test rig: a ledger and an engine on one database, restartable, driven by transcripts."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from ledger import Ledger
from simulator.billing import BillingSimulator
from smsmenu.core.clock import ManualClock
from smsmenu.core.settings import Settings
from smsmenu.core.types import Channel, Inbound
from smsmenu.states.engine import Engine
from smsmenu.states.notices import SmsNotices
from smsmenu.states.steps import Outcome

AGENT = "18912345678"
TX = "123456"
MGMT = "654321"
SECRET = b"k" * 32
TRANSCRIPTS = Path(__file__).parent / "transcripts"
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours"}


class Rig:
    """What a transcript drives: ``send`` a message, run a ``directive``; ``restart`` keeps the db."""

    def __init__(self, settings: Settings, billing: BillingSimulator, clock: ManualClock,
                 lang: str = "zh") -> None:
        self.settings, self.billing, self.clock, self.lang = settings, billing, clock, lang
        self._keys = itertools.count(1)
        self.ledger: Ledger
        self.engine: Engine

    async def open(self) -> Rig:
        self.ledger = await Ledger.open(self.settings, self.billing, self.clock,
                                        notifier=SmsNotices(), secret=SECRET)
        idle = dt.timedelta(seconds=self.settings.menu.idle_timeout_s)
        self.engine = Engine(self.ledger, idle_timeout=idle)
        return self

    async def aclose(self) -> None:
        await self.ledger.aclose()

    async def restart(self) -> None:
        """Close the ledger and the engine; open new ones on the same file (as the server does)."""
        await self.aclose()
        await self.open()
        await self.ledger.recover()

    async def open_agent(self, msisdn: str = AGENT, yuan: int = 500) -> None:
        """An agent in the rig's language with a counter deposit of ``yuan``."""
        await self.ledger.open_agent(msisdn=msisdn, name="小王", tx_password=TX, mgmt_password=MGMT,
                                     lang=self.lang)
        if yuan:
            await self.ledger.deposit(key=f"seed-{msisdn}", msisdn=msisdn, amount_fen=yuan * 100,
                                      channel="counter")

    async def handle(self, number: str, text: str, key: str | None = None,
                     channel: Channel = Channel.SMS) -> Outcome:
        key = key or f"t:{number}:{next(self._keys)}"
        return await self.engine.handle(Inbound(number, text, channel, self.clock.now(), key))

    async def send(self, number: str, text: str) -> list[tuple[str, str]]:
        """The player's ``send``: one SMS in, its replies out."""
        return [(r.to, r.text) for r in (await self.handle(number, text)).replies]

    async def directive(self, text: str) -> None:
        """The player's directives (see ``simulator.transcript``)."""
        words = text.split()
        match words:
            case ["clock", step] if (m := re.fullmatch(r"\+(\d+)([smh])", step)):
                self.clock.advance(**{_UNITS[m[2]]: int(m[1])})
            case ["billing", "fail", n]:
                self.billing.fail_next(int(n))
            case ["billing", "timeout", n, ("applied" | "lost") as how]:
                self.billing.timeout_next(int(n), applied=how == "applied")
            case ["billing", ("down" | "up") as state]:
                self.billing.down = state == "down"
            case ["restart"]:
                await self.restart()
            case ["agent", "open", number, *yuan]:
                await self.open_agent(number, yuan=int(yuan[0]) if yuan else 0)
            case ["agent", "close", *number]:
                await self.ledger.close_agent(key=f"close-{text}", msisdn=(number or [AGENT])[0])
            case ["agent", ("suspend" | "resume" | "unlock") as what, *number]:
                flag = {"suspend": {"suspended": True}, "resume": {"suspended": False},
                        "unlock": {"unlock": True}}[what]
                await self.ledger.set_flag(msisdn=(number or [AGENT])[0], **flag)
            case _:
                raise ValueError(f"unknown directive {text!r}")


def transcript_files() -> list[Path]:
    return sorted(TRANSCRIPTS.glob("*/*.txt"))


MakeRig = Callable[..., Awaitable[Rig]]
"""The ``make_rig`` fixture: ``await make_rig(lang="en", agent=True)``."""
