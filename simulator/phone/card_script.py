"""Card mode's transcripts: a ``>`` line is a key press on the card's menu, ``<`` its screens and SMS."""

from __future__ import annotations

from typing import TextIO

from simulator.phone.card_mode import CardHandset
from simulator.phone.script import LineFactory, ScriptRunner
from simulator.smsc_handset import Received
from simulator.transcript import Transcript


class CardScriptRunner(ScriptRunner):
    """The agent's keys go to the card: the screens it shows are replies to the agent (in
    order, before any SMS), the SMS it sends goes out on the line; an OTA update that arrives
    goes to the card, not to the replies. ``hex_out``: every card exchange printed as hex."""

    def __init__(self, script: Transcript, make_line: LineFactory, card: CardHandset, *,
                 timeout: float = 5.0, billing_url: str | None = None,
                 hex_out: TextIO | None = None) -> None:
        super().__init__(script, make_line, timeout=timeout, billing_url=billing_url)
        self.card = card
        self.hex_out = hex_out
        self._logged = len(card.log)
        self.updates: list[str] = []
        """What each OTA update that reached the card led to."""
        self._print_hex()

    def _print_hex(self) -> None:
        if self.hex_out is not None:
            for line in self.card.log[self._logged:]:
                print(f"  {line}", file=self.hex_out)
        self._logged = len(self.card.log)

    def _deliver(self, msisdn: str, message: Received) -> None:
        if msisdn == self.card.msisdn and (what := self.card.download(message.text)):
            self.updates.append(what)
            self._print_hex()
            return
        super()._deliver(msisdn, message)

    async def transmit(self, number: str, text: str) -> None:
        if number != self.card.msisdn:
            await super().transmit(number, text)
            return
        shown = self.card.press(text)
        self._print_hex()
        self.got.extend((number, screen) for screen in shown.screens)
        if shown.sms is not None:
            await self.line.send(number, shown.sms.text)
