"""The handset's toolkit side: shows the card's proactive commands, turns keys into responses.

Keys, as a tester types them (or presses them on the phone): a digit string (an item's number
on a menu, or the digits asked for), ``back`` (or ``0`` on a menu: TERMINAL RESPONSE 0x11),
``exit`` (0x10: the session ends), ``timeout`` (0x12), and anything (even nothing) to clear a
DISPLAY TEXT. A SEND SHORT MESSAGE is handed to the caller as ``Sms`` and answered 0x00.
Every exchange with the card is logged as hex in ``log`` (a hidden entry's digits as ``*``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from simulator.card import cdma_sms, proactive, responses
from simulator.card.applet import Applet
from simulator.card.menu import terminal_words
from simulator.card.proactive import DisplayText, GetInput, Item, Proactive, SelectItem, SendSms
from simulator.card.responses import Result, TerminalResponse
from simulator.card.tlv import hexdump

BACK, EXIT, TIMEOUT = "back", "exit", "timeout"


class Mode(Enum):
    IDLE = "idle"
    MENU = "menu"
    INPUT = "input"
    DISPLAY = "display"


@dataclass(frozen=True)
class Sms:
    """A short message the card asked the handset to send."""

    to: str
    text: str


@dataclass
class Shown:
    """What one key press led to: the screens the handset showed, and the SMS to send."""

    screens: list[str] = field(default_factory=list)
    sms: Sms | None = None


class Terminal:
    def __init__(self, applet: Applet) -> None:
        self.applet = applet
        self.words = terminal_words(applet.state.lang)
        self.log: list[str] = []
        """Every exchange, e.g. ``card> D0 0D 81 03 ...`` and ``>card 81 03 ...``."""
        self.mode = Mode.IDLE
        self.hidden = False
        """The input asked for now is a password (shown as it is typed: hidden)."""
        self.screen = ""
        self._main: tuple[Item, ...] = ()
        self._current: Proactive | None = None
        self._command(self._to_card("TERMINAL PROFILE → SET UP MENU", applet.set_up_menu()))

    def _to_card(self, what: str, data: bytes | None) -> bytes | None:
        if data is not None:
            self.log.append(f"card> {what}: {hexdump(data)}")
        return data

    def _send(self, what: str, data: bytes, answer: bytes | None) -> bytes | None:
        self.log.append(f">card {what}: {hexdump(data)}")
        return self._to_card("proactive command", answer)

    def idle_screen(self) -> str:
        lines = [self.applet.menu.title, *(f"{n}{i.text}" for n, i in enumerate(self._main, 1))]
        return "\n".join([*lines, self.words["idle_keys"]])

    def _command(self, data: bytes | None, shown: Shown | None = None) -> Shown:
        """Show the card's next proactive command (answering at once those that need no key)."""
        shown = shown or Shown()
        while data is not None:
            cmd = proactive.decode(data)
            self._current = cmd
            body = cmd.body
            if isinstance(body, proactive.SetUpMenu):
                self._main = body.items
                data = self._respond(TerminalResponse(cmd.details, Result.OK))
                continue
            if isinstance(body, SendSms):
                shown.screens.append(body.alpha)
                sms = cdma_sms.decode(body.tpdu)
                shown.sms = Sms(sms.address, sms.text)
                self.screen = body.alpha
                data = self._respond(TerminalResponse(cmd.details, Result.OK))
                if data is None:
                    self.mode, self.hidden = Mode.IDLE, False
                    return shown
                continue
            self.screen = self._render(body)
            shown.screens.append(self.screen)
            return shown
        self.mode, self.hidden = Mode.IDLE, False
        self.screen = self.idle_screen()
        shown.screens.append(self.screen)
        return shown

    def _render(self, body: proactive.Body) -> str:
        self.hidden = False
        if isinstance(body, SelectItem):
            self.mode = Mode.MENU
            items = [f"{n}{i.text}" for n, i in enumerate(body.items, 1)]
            return "\n".join([body.title, *items, self.words["menu_keys"]])
        if isinstance(body, GetInput):
            self.mode, self.hidden = Mode.INPUT, body.hidden
            return f"{body.prompt}\n{self.words['input_keys']}"
        assert isinstance(body, DisplayText)
        self.mode = Mode.DISPLAY
        return f"{body.text}\n{self.words['display_keys']}"

    def _respond(self, tr: TerminalResponse) -> bytes | None:
        data = responses.encode_response(tr)
        shown = data
        if self.hidden and tr.text:  # the log never shows a password: its digits as "*"
            shown = responses.encode_response(replace(tr, text="*" * len(tr.text)))
        self.log.append(f">card TERMINAL RESPONSE: {hexdump(shown)}")
        return self._to_card("proactive command", self.applet.terminal_response(data))

    def press(self, key: str) -> Shown:
        """Apply one key press (see the module's docstring); what the handset shows after it."""
        key = key.strip()
        if self.mode is Mode.IDLE:
            return self._pick_main(key)
        cmd = self._current
        assert cmd is not None
        result = {BACK: Result.BACKWARD, EXIT: Result.TERMINATED,
                  TIMEOUT: Result.NO_RESPONSE}.get(key.lower())
        if self.mode is Mode.MENU and key == "0":
            result = Result.BACKWARD
        if result is not None:
            return self._command(self._respond(TerminalResponse(cmd.details, result)))
        if self.mode is Mode.DISPLAY:
            return self._command(self._respond(TerminalResponse(cmd.details, Result.OK)))
        if self.mode is Mode.MENU:
            assert isinstance(cmd.body, SelectItem)
            if not key.isdigit() or not 1 <= int(key) <= len(cmd.body.items):
                return Shown([self.screen])
            item = cmd.body.items[int(key) - 1].id
            return self._command(self._respond(TerminalResponse(cmd.details, Result.OK,
                                                                item=item)))
        assert isinstance(cmd.body, GetInput)
        ask = cmd.body
        digits = key.isascii() and (key.isdigit() or key == "")
        if not digits or not ask.min_len <= len(key) <= ask.max_len:
            word = "length_exact" if ask.min_len == ask.max_len else "length"
            hint = self.words[word].format(min=ask.min_len, max=ask.max_len)
            return Shown([f"{hint}\n{self.screen}"])
        return self._command(self._respond(TerminalResponse(cmd.details, Result.OK, text=key)))

    def _pick_main(self, key: str) -> Shown:
        if not key.isdigit() or not 1 <= int(key) <= len(self._main):
            self.screen = self.idle_screen()
            return Shown([self.screen])
        data = responses.menu_selection(self._main[int(key) - 1].id)
        return self._command(self._send("ENVELOPE MENU SELECTION", data,
                                        self.applet.envelope(data)))

    def download(self, user_data: bytes) -> bool:
        """An SMS-PP data download reached the handset: to the card in an ENVELOPE; True when
        the card applied it (its new SET UP MENU then replaces the idle menu)."""
        tpdu = cdma_sms.encode(cdma_sms.Message(cdma_sms.CATPT, "10658", cdma_sms.DELIVER, 0,
                                                data=user_data, header=True))
        data = responses.sms_pp_download(tpdu)
        answer = self._send("ENVELOPE SMS-PP DOWNLOAD", data, self.applet.envelope(data))
        if answer is None:
            return False
        self._command(answer)
        return True
