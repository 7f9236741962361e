"""The Textual phone: a handset screen, an input line with keypad keys, the inbox, a handset rack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Footer, Header, Input, Label, ListView, Static

from simulator.phone.card_mode import CardHandset
from simulator.phone.lines import Deliver, Line
from simulator.phone.model import PhoneModel
from simulator.phone.say import failure
from simulator.phone.style import CSS, KEYS, key_id
from simulator.phone.widgets import HexPane, Inbox, Rack
from simulator.smsc_handset import Received

SCREENSHOTS = Path("var/screenshots")
"""Where the command palette's Screenshot saves (relative to where the phone runs)."""


class Arrived(Message):
    """An MT text reached one of the phone's handsets."""

    def __init__(self, msisdn: str, message: Received) -> None:
        super().__init__()
        self.msisdn, self.message = msisdn, message


class PhoneApp(App[int]):
    """``PhoneApp(lambda deliver: make_line(...), agent="189...")``; ``record``: transcript file."""

    CSS = CSS
    TITLE = "smsmenu phone"
    BINDINGS = [Binding("ctrl+n", "next_handset", "next handset"),
                Binding("f2", "add_handset", "add number"),
                Binding("ctrl+l", "clear", "clear input"),
                Binding("escape", "card_key('back')", "card: back"),
                Binding("f4", "card_key('exit')", "card: exit"),
                Binding("f5", "toggle_hex", "card: hex"),
                Binding("f6", "fail_next", "billing: fail next"),
                Binding("ctrl+q", "quit", "quit", priority=True)]

    def __init__(self, make_line: Callable[[Deliver], Line], agent: str, *,
                 record: Path | None = None, via: str = "smsc", card: CardHandset | None = None,
                 show_hex: bool = False, billing_url: str | None = None) -> None:
        super().__init__()
        self.billing_url = billing_url
        """The billing simulator (``POST /faults``) that F6 asks to refuse the next credit."""
        self.card = card
        """Card mode: the agent's handset runs the 空中充值 card (keys go to the card)."""
        self.model = PhoneModel(agent, (lambda: card.screen) if card else None)
        self.line = make_line(self._arrive)
        self.record_to = record
        self.show_hex = show_hex
        self._errors_seen = 0
        mode = f" · card {card.terminal.applet.state.card}" if card else ""
        self.sub_title = f"via {via} · agent {agent}{mode}"

    def _arrive(self, msisdn: str, message: Received) -> None:
        self.post_message(Arrived(msisdn, message))

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="rack-pane"):
                yield Label("Handsets", classes="pane-title")
                yield Rack(id="rack")
                yield Input(placeholder="+ customer number", id="add", restrict=r"[0-9+]*")
            with Vertical(id="phone"):
                yield Static(id="display")
                yield Input(placeholder="type, or press the keys", id="entry")
                with Grid(id="keypad"):
                    for key in KEYS:
                        yield Button(key, id=key_id(key), classes="key")
                    yield Button("clear", id="clear", classes="key", variant="warning")
                    yield Button("send", id="send", classes="key", variant="success")
            with Vertical(id="inbox-pane"):
                yield Label("Inbox", classes="pane-title", id="inbox-title")
                yield Inbox(id="inbox")
                yield HexPane(id="hex")
        yield Footer()

    def on_mount(self) -> None:
        for button in self.query(".key").results(Button):
            button.can_focus = False
        self.line.watch(self.model.agent)
        self.query_one(Rack).show(self.model.handsets[self.model.agent])
        self.query_one(HexPane).display = self.show_hex and self.card is not None
        self._show()
        self.query_one("#entry", Input).focus()
        self.set_interval(1.0, self._line_errors)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The command palette's Screenshot: an SVG under ``var/screenshots/`` (made if
        missing), its path in a toast. Textual's own saves to ~/Downloads and fails ("Failed
        to save screenshot") where that folder does not exist, as on servers and containers."""
        folder = Path(path) if path else SCREENSHOTS
        try:
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, str(folder), time_format)
        except OSError as exc:
            self.notify(f"screenshot not saved: {exc.strerror or exc}", title="Screenshot",
                        severity="error")
            return None
        self.notify(f"saved {saved}", title="Screenshot")
        return saved

    def _line_errors(self) -> None:
        new = self.line.errors[self._errors_seen:]
        self._errors_seen = len(self.line.errors)
        for error in dict.fromkeys(new):  # once per distinct failure per second, not per retry
            self.notify(f"cannot receive: {error}", severity="error", timeout=8)

    async def on_unmount(self) -> None:
        if self.record_to is not None and self.model.exchanges:
            self.record_to.write_text(self.model.transcript(), "utf-8")
        await self.line.aclose()

    # -- the handset rack ----------------------------------------------------------------------
    def select(self, msisdn: str) -> None:
        """Put handset ``msisdn`` on screen (adding it to the rack if new)."""
        previous = self.model.current
        state = self.model.select(msisdn)
        self.line.watch(msisdn)
        rack = self.query_one(Rack)
        rack.show(self.model.handsets[previous])
        rack.show(state)
        rack.point(msisdn)
        self._show()

    @on(ListView.Selected, "#rack")
    def _picked(self, event: ListView.Selected) -> None:
        if event.item.id:
            self.select(event.item.id.removeprefix("hs-"))

    @on(Input.Submitted, "#add")
    def _added(self, event: Input.Submitted) -> None:
        number = event.value.strip().removeprefix("+")
        event.input.value = ""
        if number:
            self.select(number)
        self.query_one("#entry", Input).focus()

    async def action_fail_next(self) -> None:
        """F6: the billing simulator refuses the next credit for good (``fail_next``), so the
        tester sees a failure notice and can retry it (as ``! billing fail 1`` in a script)."""
        if not self.billing_url:
            self.notify("no billing simulator known: start the phone with --billing-url URL",
                        title="Billing", severity="error")
            return
        try:
            async with aiohttp.ClientSession() as http, http.post(
                    f"{self.billing_url.rstrip('/')}/faults", json={"fail_next": 1},
                    timeout=aiohttp.ClientTimeout(total=5)) as resp:
                ok = resp.status == 200
                why = "" if ok else f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            ok, why = False, failure(exc)
        if ok:
            self.notify("the next recharge will be refused by billing", title="Billing")
        else:
            self.notify(f"billing did not take it: {why}", title="Billing", severity="error")

    def action_add_handset(self) -> None:
        self.query_one("#add", Input).focus()

    def action_next_handset(self) -> None:
        shown = [n for n, s in self.model.handsets.items() if s.shown]
        self.select(shown[(shown.index(self.model.current) + 1) % len(shown)])

    # -- screen, keypad, sending ------------------------------------------------------------------
    def _show(self, status: str = "") -> None:
        state = self.model.handsets[self.model.current]
        display = self.query_one("#display", Static)
        display.update(self.model.screen())
        display.border_title = f"{state.role} {state.msisdn}"
        waiting = "waiting for a reply…" if state.msisdn in self.model.waiting else ""
        display.border_subtitle = status or waiting
        self.query_one("#inbox-title", Label).update(f"Inbox of {state.msisdn} "
                                                     f"({len(state.inbox)})")
        self.query_one(Inbox).fill(state)
        on_card = self.card is not None and state.msisdn == self.model.agent
        self.query_one("#entry", Input).password = on_card and bool(self.card and self.card.hidden)
        if self.card is not None:
            self.query_one(HexPane).fill(self.card.log)

    @on(Button.Pressed, ".key")
    async def _key(self, event: Button.Pressed) -> None:
        entry = self.query_one("#entry", Input)
        if event.button.id == "send":
            await self.send(entry.value)
        elif event.button.id == "clear":
            self.action_clear()
        else:
            entry.insert_text_at_cursor(str(event.button.label))

    @on(Input.Submitted, "#entry")
    async def _entered(self, event: Input.Submitted) -> None:
        await self.send(event.value)

    def action_clear(self) -> None:
        self.query_one("#entry", Input).value = ""

    def action_card_key(self, key: str) -> None:
        """The handset's back and exit keys, in card mode."""
        if self.card is not None and self.model.current == self.model.agent:
            self._card_press(key)

    def action_toggle_hex(self) -> None:
        """Show or hide every exchange with the card, as hex."""
        pane = self.query_one(HexPane)
        pane.display = self.card is not None and not pane.display
        if self.card is not None:
            pane.fill(self.card.log)

    def _card_press(self, key: str) -> None:
        assert self.card is not None
        self.query_one("#entry", Input).value = ""
        agent = self.model.agent
        shown = self.card.press(key)
        self.model.sent(agent, key, waiting=shown.sms is not None)
        for screen in shown.screens:
            self.model.shown(agent, screen)
        self._show()
        if shown.sms is not None:
            self.run_worker(self._deliver_mo(agent, shown.sms.text), group="send")

    async def send(self, text: str) -> None:
        """Send what is on the input line from the handset on screen (in card mode, the
        agent's handset gives it to the card as a key press, even an empty one)."""
        text = text.strip()
        if self.card is not None and self.model.current == self.model.agent:
            self._card_press(text)
            return
        if not text:
            return
        self.query_one("#entry", Input).value = ""
        msisdn = self.model.current
        for number in self.model.sent(msisdn, text):
            self.line.watch(number)
        self._show(f"sent {text}")
        self.run_worker(self._deliver_mo(msisdn, text), group="send")

    async def _deliver_mo(self, msisdn: str, text: str) -> None:
        try:
            await self.line.send(msisdn, text)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.model.waiting.discard(msisdn)
            self.notify(f"not sent: {failure(exc)}", severity="error", timeout=6)
            self._show("not sent")

    def on_arrived(self, event: Arrived) -> None:
        if self.card is not None and event.msisdn == self.model.agent:
            update = self.card.download(event.message.text)
            if update is not None:
                self.notify(update, timeout=6)
                self._show()
                return
        self.query_one(Rack).show(self.model.arrived(event.msisdn, event.message))
        if event.msisdn == self.model.current:
            self._show()
        else:
            self.notify(f"SMS to {event.msisdn}: {event.message.text[:40]}", timeout=4)
