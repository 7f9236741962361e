"""The phone's state without a screen: handsets, their inboxes, the exchanges to record."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.smsc_handset import Received
from simulator.transcript import record

NUMBERS = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|0[1-9][0-9]{8,10})(?![0-9])")
"""Numbers a customer notice may go to (mobile, or PHS with its area code), found in MO texts."""
VARIABLE = [(re.compile(r"(?<![0-9])[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}(?![0-9])"), "{}"),
            (re.compile(r"(单号|流水|no\. |reference |ref )[A-Z]*[0-9]+"), r"\1{}")]
"""Parts of a reply that differ on every run; a recording writes them as ``{}`` patterns."""


@dataclass
class HandsetState:
    """One handset on the rack; customer handsets are ``shown`` once a text reached them."""

    msisdn: str
    role: str
    inbox: list[Received] = field(default_factory=list)
    unread: int = 0
    shown: bool = True

    @property
    def label(self) -> str:
        badge = f" ({self.unread})" if self.unread else ""
        return f"{self.role} {self.msisdn}{badge}"


Exchange = tuple[tuple[str, str], list[tuple[str, str]]]


class PhoneModel:
    """The agent's handset first; customers added by hand or when a typed number gets a text."""

    def __init__(self, agent: str, card_screen: Callable[[], str] | None = None) -> None:
        self.agent = agent
        self.card_screen = card_screen
        """Card mode: what the card shows on the agent's handset (its display is the card's)."""
        self.handsets: dict[str, HandsetState] = {agent: HandsetState(agent, "agent")}
        self.current = agent
        self.exchanges: list[Exchange] = []
        self.waiting: set[str] = set()

    def add(self, msisdn: str, *, shown: bool = True) -> HandsetState:
        """The handset ``msisdn`` (created when new; ``shown`` makes it visible on the rack)."""
        state = self.handsets.setdefault(msisdn, HandsetState(msisdn, "customer", shown=shown))
        state.shown = state.shown or shown
        return state

    def select(self, msisdn: str) -> HandsetState:
        state = self.add(msisdn)
        self.current, state.unread = msisdn, 0
        return state

    def sent(self, msisdn: str, text: str, *, waiting: bool = True) -> list[str]:
        """Note an MO text (in card mode: a key press, ``waiting`` when the card sent an SMS);
        the numbers in it to watch for notices (quietly, not yet shown)."""
        self.exchanges.append(((msisdn, text), []))
        if waiting:
            self.waiting.add(msisdn)
        found = [n for n in NUMBERS.findall(text) if n not in self.handsets]
        for number in found:
            self.add(number, shown=False)
        return found

    def arrived(self, msisdn: str, message: Received) -> HandsetState:
        """An MT text reached ``msisdn``: into its inbox, unread unless it is on screen."""
        state = self.add(msisdn)
        state.inbox.append(message)
        if msisdn != self.current:
            state.unread += 1
        self.waiting.discard(msisdn)
        if self.exchanges:
            self.exchanges[-1][1].append((msisdn, message.text))
        return state

    def shown(self, msisdn: str, screen: str) -> None:
        """Card mode: a screen the card showed after the last key, recorded as a reply."""
        if self.exchanges:
            self.exchanges[-1][1].append((msisdn, screen))

    def screen(self, msisdn: str | None = None) -> str:
        """What the handset's display shows: the card's screen (card mode), its last text, or
        an idle prompt."""
        state = self.handsets[msisdn or self.current]
        if state.role == "agent" and self.card_screen is not None:
            return self.card_screen()
        if state.inbox:
            return state.inbox[-1].text
        # 00 opens the main menu from anywhere (1 would already choose 充值)
        return "空中充值\n发送 00 打开菜单" if state.role == "agent" else "(no messages yet)"

    def transcript(self) -> str:
        """The session so far as a transcript; times and references become ``{}`` patterns."""
        lines = record(self.exchanges, self.agent).split("\n")
        if self.card_screen is not None:
            lines.insert(1, "@mode card")
        for i, line in enumerate(lines):
            if line.startswith("<"):
                for pattern, repl in VARIABLE:
                    line = pattern.sub(repl, line)
                lines[i] = line
        return "\n".join(lines)
