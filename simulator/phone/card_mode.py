"""The phone's card mode: the agent's handset holds the 空中充值 card; keys go to the card, its SMS out."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simulator.card.applet import Applet, CardState
from simulator.card.terminal import Shown, Terminal
from smsmenu.core import ota
from smsmenu.core.settings import Settings


def card_id(msisdn: str) -> str:
    """The id a simulated card gets when first issued for ``msisdn`` (hex digits, ICCID-like)."""
    return f"8986{msisdn[-8:]}"


def server_card_key(settings: Settings, card: str) -> bytes | None:
    """The card's OTA key as the server derives it, when its secret is readable here (the
    server box, ``make run``): ``SMSMENU_SECRET`` or ``[ledger] secret_file``; else None."""
    value = os.environ.get("SMSMENU_SECRET")
    try:
        secret = bytes.fromhex(value or Path(settings.ledger.secret_file).read_text().strip())
    except (OSError, ValueError):
        return None
    return ota.card_key(secret, card)


@dataclass(frozen=True)
class CardSetup:
    """How the phone gets its card: the folder the cards are kept in (``card-<number>.json``;
    None: not kept), the language of a new card's menu, a new card's OTA key (None: derived
    from the server's secret as ``server_card_key``, else random: no server can update it)."""

    folder: Path | None
    lang: str = "zh"
    key: bytes | None = None
    settings: Settings | None = None

    def file(self, msisdn: str) -> Path | None:
        return None if self.folder is None else self.folder / f"card-{msisdn}.json"


def issue(msisdn: str, setup: CardSetup) -> CardState:
    """The card kept for ``msisdn``, else a new one (counters at 0, the shipped menu)."""
    file = setup.file(msisdn)
    if file is not None and file.exists():
        return CardState.loads(file.read_text("utf-8"))
    card = card_id(msisdn)
    key = setup.key or (server_card_key(setup.settings, card) if setup.settings else None)
    return CardState(card, setup.lang, (key or os.urandom(16)).hex())


class CardHandset:
    """The agent's handset with the card in it; every exchange with the card in ``log`` (hex)."""

    def __init__(self, msisdn: str, setup: CardSetup) -> None:
        self.msisdn = msisdn
        self.file = setup.file(msisdn)
        self.terminal = Terminal(Applet(issue(msisdn, setup)))
        self._save()

    def _save(self) -> None:
        if self.file is not None:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self.file.write_text(self.terminal.applet.state.dumps(), "utf-8")

    @property
    def screen(self) -> str:
        return self.terminal.screen

    @property
    def hidden(self) -> bool:
        """The card asks for a password now: the handset hides what is typed."""
        return self.terminal.hidden

    @property
    def log(self) -> list[str]:
        return self.terminal.log

    def press(self, key: str) -> Shown:
        """A key press; the screens it led to and the SMS the card asked to send (if any)."""
        shown = self.terminal.press(key)
        self._save()
        return shown

    def download(self, text: str) -> str | None:
        """An MT text that is an OTA update goes to the card: what happened (for a notice);
        None for any other text (it goes to the inbox)."""
        packet = ota.unarmor(text)
        if packet is None:
            return None
        applied = self.terminal.download(packet)
        self._save()
        status = self.terminal.applet.last_status
        return "card menu updated" if applied else \
            f"card refused an update: {status.name if status else 'unreadable'}"
