"""The applet and the handset's toolkit side: navigation by terminal responses, the commands sent."""

from __future__ import annotations

import pytest

from simulator.card import cdma_sms, proactive
from simulator.card.applet import Applet, CardError, CardState
from simulator.card.terminal import Mode, Terminal

CARD = "8986A1B2"


def handset(lang: str = "zh") -> Terminal:
    return Terminal(Applet(CardState(CARD, lang, "00" * 16)))


def test_a_recharge_sends_one_tagged_command_in_a_cdma_sms() -> None:
    """1 → 2 → number → amount → no notice → PIN: CZ*2*...#UTK<card>-1 to 10658 (CMT-95)."""
    t = handset()
    for key in ("1", "2", "15300002222", "100", ""):
        assert t.press(key).sms is None
    assert t.hidden
    sent = t.press("135790")
    assert sent.screens == ["正在发送…"] and sent.sms is not None
    assert (sent.sms.to, sent.sms.text) == ("10658", f"CZ*2*15300002222*100*135790#UTK{CARD}-1")
    assert t.mode is Mode.IDLE and not t.hidden
    send = proactive.decode(bytes.fromhex(t.log[-2].split(": ")[1]))
    assert isinstance(send.body, proactive.SendSms)
    msg = cdma_sms.decode(send.body.tpdu)
    assert (msg.teleservice, msg.message_type, msg.message_id) == (cdma_sms.CMT95,
                                                                   cdma_sms.SUBMIT, 1)


def test_back_walks_up_and_exit_ends_the_session() -> None:
    """back (0x11) returns to the previous input, then the sub-menu, then idle; exit (0x10)
    and timeout (0x12) end the session at once."""
    t = handset("en")
    t.press("1"), t.press("2"), t.press("15300002222")
    assert t.press("back").screens[0].startswith("CDMA mobile number")
    assert t.press("back").screens[0].startswith("Recharge\n1Landline")
    assert t.press("0").screens[0].startswith("Air recharge\n1Recharge")
    assert t.mode is Mode.IDLE
    t.press("3")
    assert t.press("exit").screens[0].endswith("[Select] [Exit]") and t.mode is Mode.IDLE
    t.press("3"), t.press("1")
    assert t.press("timeout").screens[0].startswith("Air recharge") and t.mode is Mode.IDLE
    assert "83 01 10" in " ".join(t.log) and "83 01 12" in " ".join(t.log)


def test_the_handset_refuses_a_wrong_length_or_a_letter() -> None:
    """A PIN of 5 digits or letters never reaches the card: the hint and the same prompt."""
    t = handset()
    t.press("3"), t.press("1")
    before = len(t.log)
    assert t.press("12345").screens == ["请输入6位数字\n交易密码\n[确定] [返回]"]
    assert t.press("abcdef").screens[0].startswith("请输入6位数字")
    assert len(t.log) == before


def test_two_different_new_passwords_send_nothing() -> None:
    """The confirmation differs: the card says so (DISPLAY TEXT) and sends no command."""
    t = handset()
    t.press("3"), t.press("2"), t.press("111111"), t.press("222222")
    shown = t.press("333333")
    assert shown.sms is None and shown.screens == ["两次输入不一致，未发送。\n[确定]"]
    assert t.press("").screens[0].startswith("空中充值") and t.applet.state.counter == 0


def test_resend_repeats_the_last_command_under_its_counter() -> None:
    """Nothing to resend at first; after a balance query, the same text and counter again;
    the next new command takes the next counter."""
    t = handset()
    t.press("2")
    assert t.press("2").screens == ["没有可重发的指令。\n[确定]"]
    t.press("")
    t.press("3"), t.press("1")
    first = t.press("135790").sms
    t.press("2")
    again = t.press("2").sms
    assert first == again and first is not None and first.text.endswith("-1")
    t.press("3"), t.press("3")
    later = t.press("135790").sms
    assert later is not None and later.text == f"ZJ*135790#UTK{CARD}-2"


def test_the_card_state_survives_a_power_cycle() -> None:
    """Counters and last command come back from the saved JSON."""
    t = handset()
    t.press("3"), t.press("1"), t.press("135790")
    state = CardState.loads(t.applet.state.dumps())
    assert (state.counter, state.last) == (1, "YE*135790")


def test_a_response_to_no_command_is_refused() -> None:
    """A terminal response whose details match no pending command: CardError."""
    applet = Applet(CardState(CARD, "zh", "00" * 16))
    with pytest.raises(CardError):
        applet.terminal_response(bytes.fromhex("81 03 09 24 00 82 02 82 81 83 01 00"))
