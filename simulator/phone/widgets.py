"""The phone's own widgets: the handset rack, the inbox of one handset, the card's hex log."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Label, ListItem, ListView, Static

from simulator.phone.model import HandsetState
from simulator.phone.say import clock


class Rack(ListView):
    """The handsets of the phone, one line each with its unread count; Enter or click selects."""

    def show(self, state: HandsetState) -> None:
        """Add the handset (once it is ``shown``) or refresh its line."""
        if not state.shown:
            return
        label = next(iter(self.query(f"#label-{state.msisdn}").results(Label)), None)
        if label is None:
            self.append(ListItem(Label(state.label, id=f"label-{state.msisdn}"),
                                 id=f"hs-{state.msisdn}"))
        else:
            label.update(state.label)

    def point(self, msisdn: str) -> None:
        """Highlight the handset on screen."""
        ids = [item.id for item in self.query(ListItem)]
        if f"hs-{msisdn}" in ids:
            self.index = ids.index(f"hs-{msisdn}")


class Inbox(VerticalScroll):
    """One handset's texts, newest first, each with its time and sender."""

    def fill(self, state: HandsetState) -> None:
        self.remove_children()
        self.mount_all(Static(Text.assemble((f"{clock(m.at)}  from {m.sender}\n",
                                             "dim"), m.text), classes="sms")
                       for m in reversed(state.inbox))


class HexPane(VerticalScroll):
    """Card mode: every exchange between the handset and the card, as hex, newest last."""

    def fill(self, log: list[str]) -> None:
        if not self.display:
            return
        self.remove_children()
        self.mount(Static(Text("\n".join(log[-40:]), style="dim")))
        self.scroll_end(animate=False)
