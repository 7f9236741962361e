"""The 空中充值 applet on the card: its menu walked by proactive commands, one SMS per operation.

The terminal calls ``set_up_menu`` once (after its profile download), ``envelope`` for a pick
from that menu (``D3``) or an over-the-air download (``D1``), and ``terminal_response`` for the
answer to each proactive command; each returns the next proactive command, or None when the
proactive session is over. Every command sent carries the card's tag ``#UTK<card>-<counter>``;
the counter grows by one for each new command and is kept for the "send again" entry.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from simulator.card import cdma_sms, proactive
from simulator.card.menu import Menu, MenuError, Node, parse, shipped_source
from simulator.card.proactive import Item, Kind, Proactive
from simulator.card.responses import (
    SMS_PP_DOWNLOAD,
    Result,
    decode_response,
    read_menu_selection,
    read_sms_pp_download,
)
from smsmenu.core import ota


class CardError(ValueError):
    """Bytes the card cannot take now (a response to no command, an unknown envelope)."""


@dataclass
class CardState:
    """What the card keeps across power cycles (its EEPROM): saved by the phone as JSON."""

    card: str
    lang: str
    key: str
    """The OTA key, hex (``smsmenu.core.ota.card_key``)."""
    counter: int = 0
    ota_counter: int = 0
    patches: list[str] = field(default_factory=list)
    """The menu patches (TOML) received over the air, laid in order over the issued menu."""
    last: str | None = None
    """The last command sent (without its tag), for "send again" under the same counter."""

    def dumps(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def loads(cls, text: str) -> CardState:
        return cls(**json.loads(text))


class Applet:
    def __init__(self, state: CardState) -> None:
        self.state = state
        self.menu: Menu = parse(shipped_source(state.lang), tuple(state.patches))
        self.last_status: ota.Status | None = None
        """The status of the last over-the-air download (TS 102 225 response status)."""
        self._number = 0
        self._pending: Proactive | None = None
        self._path: list[str] = []
        self._field = 0
        self._values: dict[str, str] = {}

    def _issue(self, body: proactive.Body) -> bytes:
        self._number = self._number % 254 + 1
        self._pending = proactive.command(self._number, body)
        return proactive.encode(self._pending)

    def _end(self) -> None:
        self._pending, self._path, self._field, self._values = None, [], 0, {}

    def set_up_menu(self) -> bytes:
        m = self.menu
        return self._issue(proactive.SetUpMenu(m.title, tuple(
            Item(i, m.nodes[k].text) for i, k in enumerate(m.main, 1))))

    def envelope(self, data: bytes) -> bytes | None:
        if data[:1] == bytes([SMS_PP_DOWNLOAD]):
            return self._download(read_sms_pp_download(data))
        item = read_menu_selection(data)
        if not 1 <= item <= len(self.menu.main):
            raise CardError(f"menu selection of item {item}, not in the menu")
        self._end()
        return self._enter(self.menu.main[item - 1])

    def _node(self) -> Node:
        return self.menu.nodes[self._path[-1]]

    def _enter(self, key: str) -> bytes | None:
        self._path.append(key)
        self._field, self._values = 0, {}
        return self._show()

    def _show(self) -> bytes | None:
        node, m = self._node(), self.menu
        if node.menu:
            return self._issue(proactive.SelectItem(node.text, tuple(
                Item(i, m.nodes[k].text) for i, k in enumerate(node.menu, 1))))
        if node.resend:
            if self.state.last is None:
                return self._issue(proactive.DisplayText(m.nothing))
            return self._send(self.state.last, self.state.counter)
        ask = m.inputs[node.inputs[self._field]]
        return self._issue(proactive.GetInput(ask.prompt, ask.min, ask.max, ask.hidden))

    def _send(self, command: str, counter: int) -> bytes:
        tagged = f"{command}#UTK{self.state.card}-{counter}"
        tpdu = cdma_sms.encode(cdma_sms.Message(cdma_sms.CMT95, self.menu.service,
                                                cdma_sms.SUBMIT, counter & 0xFFFF, text=tagged))
        return self._issue(proactive.SendSms(self.menu.sending, tpdu))

    def terminal_response(self, data: bytes) -> bytes | None:
        tr, pending = decode_response(data), self._pending
        if pending is None or tr.details != pending.details:
            raise CardError("a terminal response to no pending proactive command")
        if pending.kind is Kind.SET_UP_MENU:
            self._pending = None
            return None
        if tr.result is Result.BACKWARD and pending.kind in (Kind.SELECT_ITEM, Kind.GET_INPUT):
            return self._back()
        if tr.result is not Result.OK or pending.kind in (Kind.SEND_SMS, Kind.DISPLAY_TEXT):
            self._end()
            return None
        node = self._node()
        if pending.kind is Kind.SELECT_ITEM:
            return self._enter(node.menu[(tr.item or 0) - 1])
        return self._took(node, tr.text or "")

    def _took(self, node: Node, value: str) -> bytes | None:
        ask = self.menu.inputs[node.inputs[self._field]]
        if ask.same_as and value != self._values.get(ask.same_as):
            self._path = []
            return self._issue(proactive.DisplayText(self.menu.mismatch))
        self._values[ask.name] = value
        self._field += 1
        if self._field < len(node.inputs):
            return self._show()
        command = self.menu.command(node, self._values)
        self.state.counter += 1
        self.state.last = command
        return self._send(command, self.state.counter)

    def _back(self) -> bytes | None:
        if self._field > 0:
            self._field -= 1
            return self._show()
        self._path.pop()
        if not self._path:
            self._end()
            return None
        self._field, self._values = 0, {}
        return self._show()

    def _download(self, tpdu: bytes) -> bytes | None:
        """An SMS-PP data download: applied when its CC and counter check out (TS 102 225)."""
        msg = cdma_sms.decode(tpdu)
        try:
            if msg.teleservice != cdma_sms.CATPT or not msg.header:
                raise ota.OtaRefused(ota.Status.SECURITY_ERROR, "not a CATPT command packet")
            packet = ota.verify(bytes.fromhex(self.state.key), msg.data, self.state.ota_counter)
            try:
                menu = parse(shipped_source(self.state.lang),
                             (*self.state.patches, packet.menu))
            except MenuError as exc:
                raise ota.OtaRefused(ota.Status.SECURITY_ERROR, str(exc)) from None
        except ota.OtaRefused as exc:
            self.last_status = exc.status
            return None
        self.menu, self.state.ota_counter = menu, packet.counter
        self.state.patches.append(packet.menu)
        self.last_status = ota.Status.OK
        self._end()
        return self.set_up_menu()
