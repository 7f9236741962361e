"""Over-the-air menu updates: the command packet's layout, applied once, replays and forgeries refused."""

from __future__ import annotations

import pytest

from simulator.card.applet import Applet, CardState
from simulator.card.terminal import Terminal
from smsmenu.core import ota

SECRET = b"s" * 32
CARD = "8986A1B2"
KEY = ota.card_key(SECRET, CARD)


def renamed(counter: int, title: str = "空中充值2", key: bytes = KEY) -> bytes:
    return ota.build(key, counter, f'title = "{title}"\n')


def terminal() -> Terminal:
    return Terminal(Applet(CardState(CARD, "zh", KEY.hex())))


def test_the_command_packet_layout() -> None:
    """UDH 02 70 00, CPL, CHL 15, SPI 12 00, KIc 00, KID 13, TAR C0 00 01, CNTR (5), PCNTR 00,
    an 8-byte CC, then the secured data (format 01 and the compressed menu)."""
    packet = ota.build(KEY, 7, "x")
    assert packet[:3] == bytes.fromhex("027000")
    assert int.from_bytes(packet[3:5], "big") == len(packet) - 5
    assert packet[5:19].hex(" ").upper() == "15 12 00 00 13 C0 00 01 00 00 00 00 07 00"
    assert packet[27:] == b"\x02x"  # plain: shorter than compressed
    assert ota.verify(KEY, packet, 6) == ota.Packet(7, "x")


def test_a_patch_renames_and_adds_entries_and_too_much_is_refused() -> None:
    """A renamed item and a new top-level one; a patch larger than one SMS is not built."""
    t = terminal()
    patch = ('main = ["recharge", "exceptions", "account", "business", "quick"]\n'
             '[node.recharge]\ntext = "充值缴费"\n'
             '[node.quick]\ntext = "快速查余额"\ninputs = ["tx"]\nsend = "YE*{tx}"\n')
    assert t.download(ota.build(KEY, 1, patch))
    assert t.idle_screen() == ("空中充值\n1充值缴费\n2异常处理\n3账户管理\n4业务管理\n"
                               "5快速查余额\n[选择] [退出]")
    t.press("5")
    assert t.press("123456").sms is not None
    with pytest.raises(ota.TooLong):
        ota.build(KEY, 2, "".join(f'[node.n{i}]\ntext = "{i}"\n' for i in range(400)))


def test_an_update_is_applied_once_and_its_replay_refused() -> None:
    """The renamed title shows at once; the same packet again: CNTR low, nothing changes."""
    t = terminal()
    assert t.download(renamed(1)) and t.applet.last_status is ota.Status.OK
    assert t.idle_screen().startswith("空中充值2\n1充值")
    assert t.applet.state.ota_counter == 1 and t.applet.state.patches == ['title = "空中充值2"\n']
    assert not t.download(renamed(1, title="空中充值3"))
    assert t.applet.last_status is ota.Status.CNTR_LOW
    assert t.idle_screen().startswith("空中充值2\n")
    assert t.download(renamed(5, title="空中充值5"))
    assert not t.download(renamed(4, title="空中充值4"))  # lower than the newest: refused


def test_a_forged_or_altered_packet_is_refused() -> None:
    """Another key, a flipped byte of the secured data, another TAR: refused, menu unchanged."""
    t = terminal()
    assert not t.download(renamed(1, key=ota.card_key(b"other" * 7, CARD)))
    assert t.applet.last_status is ota.Status.CC_FAILED
    altered = bytearray(renamed(2))
    altered[-1] ^= 1
    assert not t.download(bytes(altered)) and t.applet.last_status is ota.Status.CC_FAILED
    other_tar = bytearray(renamed(3))
    other_tar[12] = 0x99
    assert not t.download(bytes(other_tar)) and t.applet.last_status is ota.Status.TAR_UNKNOWN
    assert t.applet.state.ota_counter == 0 and t.idle_screen().startswith("空中充值\n")


def test_a_broken_menu_is_refused_even_when_signed() -> None:
    """A menu naming a node it does not define never replaces the card's own."""
    t = terminal()
    assert not t.download(ota.build(KEY, 1, 'main = ["recharge", "nowhere"]\n'))
    assert t.applet.last_status is ota.Status.SECURITY_ERROR and t.applet.state.ota_counter == 0


def test_armoring_round_trips_and_ignores_other_texts() -> None:
    """The outbox text is the prefix and the hex; any other text is no packet."""
    packet = renamed(1)
    assert ota.unarmor(ota.armor(packet)) == packet
    assert ota.unarmor("充值成功") is None and ota.unarmor(ota.ARMOR + "zz") is None


@pytest.mark.parametrize("card", ["8986A1B2", "8986a1b2"])
def test_the_card_key_is_per_card(card: str) -> None:
    """Each card its own key (case of the id aside); another card's key differs."""
    assert ota.card_key(SECRET, card) == KEY != ota.card_key(SECRET, "8986A1B3")
