"""Golden bytes of the card toolkit: each layout written out by hand from TS 102 223 / C.S0015."""

from __future__ import annotations

import pytest

from simulator.card import cdma_sms, proactive, responses, tlv
from simulator.card.proactive import DisplayText, GetInput, Item, SelectItem, SendSms, SetUpMenu
from simulator.card.responses import Result, TerminalResponse


def h(text: str) -> bytes:
    return bytes.fromhex(text)


ITEMS = tuple(Item(i, f"Item {i}") for i in range(1, 5))
# The examples of the conformance specification's first sequences (TS 31.124 27.22.4), laid out
# as TS 102 223 section 6.6 says: D0 len, command details 81 03 nn tt qq, device identities
# 82 02 src dst (81 UICC, 82 terminal, 02 display, 83 network), then the command's objects.
GOLDEN = [
    ("display text", proactive.command(1, DisplayText("Toolkit Test 1")),
     "D0 1A 81 03 01 21 80 82 02 81 02 8D 0F 04 54 6F 6F 6C 6B 69 74 20 54 65 73 74 20 31"),
    ("get input", proactive.command(1, GetInput("Enter 12345", 5, 5)),
     "D0 1B 81 03 01 23 00 82 02 81 82 8D 0C 04 45 6E 74 65 72 20 31 32 33 34 35 91 02 05 05"),
    ("get input, hidden", proactive.command(1, GetInput("Password", 4, 8, hidden=True)),
     "D0 18 81 03 01 23 04 82 02 81 82 8D 09 04 50 61 73 73 77 6F 72 64 91 02 04 08"),
    ("select item", proactive.command(1, SelectItem("Toolkit Select", ITEMS)),
     "D0 3D 81 03 01 24 00 82 02 81 82 85 0E 54 6F 6F 6C 6B 69 74 20 53 65 6C 65 63 74"
     " 8F 07 01 49 74 65 6D 20 31 8F 07 02 49 74 65 6D 20 32 8F 07 03 49 74 65 6D 20 33"
     " 8F 07 04 49 74 65 6D 20 34"),
    ("set up menu", proactive.command(1, SetUpMenu("Toolkit Menu", ITEMS)),
     "D0 3B 81 03 01 25 00 82 02 81 82 85 0C 54 6F 6F 6C 6B 69 74 20 4D 65 6E 75"
     " 8F 07 01 49 74 65 6D 20 31 8F 07 02 49 74 65 6D 20 32 8F 07 03 49 74 65 6D 20 33"
     " 8F 07 04 49 74 65 6D 20 34"),
    # UCS2: alpha identifier 80 + big-endian units (TS 102 221 annex A), text string DCS 08.
    ("set up menu, UCS2", proactive.command(2, SetUpMenu("充值", (Item(1, "余额"),))),
     "D0 18 81 03 02 25 00 82 02 81 82 85 05 80 51 45 50 3C 8F 06 01 80 4F 59 98 9D"),
    ("display text, UCS2", proactive.command(3, DisplayText("失败")),
     "D0 10 81 03 03 21 80 82 02 81 02 8D 05 08 59 31 8D 25"),
    # CDMA card: the CDMA-SMS TPDU under tag 48 (C.S0035), alpha "Sending".
    ("send short message", proactive.command(4, SendSms("Sending", h("00 00 02 10 02"))),
     "D0 19 81 03 04 13 00 82 02 81 83 85 07 53 65 6E 64 69 6E 67 48 05 00 00 02 10 02"),
]


@pytest.mark.parametrize(("name", "cmd", "golden"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_proactive_command_bytes(name: str, cmd: proactive.Proactive, golden: str) -> None:
    """Our encoder writes the hand-written bytes, and reads them back as the same command."""
    assert tlv.hexdump(proactive.encode(cmd)) == golden
    assert proactive.decode(h(golden)) == cmd


TERMINAL_RESPONSES = [
    ("display text ok", TerminalResponse(h("01 21 80"), Result.OK),
     "81 03 01 21 80 82 02 82 81 83 01 00"),
    ("get input 12345", TerminalResponse(h("01 23 00"), Result.OK, text="12345"),
     "81 03 01 23 00 82 02 82 81 83 01 00 8D 06 04 31 32 33 34 35"),
    ("select item 2", TerminalResponse(h("01 24 00"), Result.OK, item=2),
     "81 03 01 24 00 82 02 82 81 83 01 00 90 01 02"),
    ("terminated by the user", TerminalResponse(h("01 24 00"), Result.TERMINATED),
     "81 03 01 24 00 82 02 82 81 83 01 10"),
    ("backward move", TerminalResponse(h("02 23 04"), Result.BACKWARD),
     "81 03 02 23 04 82 02 82 81 83 01 11"),
    ("no response", TerminalResponse(h("02 23 00"), Result.NO_RESPONSE),
     "81 03 02 23 00 82 02 82 81 83 01 12"),
]


@pytest.mark.parametrize(("name", "tr", "golden"), TERMINAL_RESPONSES,
                         ids=[t[0] for t in TERMINAL_RESPONSES])
def test_terminal_response_bytes(name: str, tr: TerminalResponse, golden: str) -> None:
    """Command details echoed, terminal (82) to UICC (81), the result, then the answer."""
    assert tlv.hexdump(responses.encode_response(tr)) == golden
    assert responses.decode_response(h(golden)) == tr


def test_envelope_menu_selection_bytes() -> None:
    """D3, keypad (01) to UICC (81), item identifier 90 01 02."""
    assert tlv.hexdump(responses.menu_selection(2)) == "D3 07 82 02 01 81 90 01 02"
    assert responses.read_menu_selection(h("D3 07 82 02 01 81 90 01 02")) == 2


def test_envelope_sms_pp_download_bytes() -> None:
    """D1, network (83) to UICC (81), the CDMA-SMS TPDU under 48."""
    golden = "D1 09 82 02 83 81 48 03 00 AA BB"
    assert tlv.hexdump(responses.sms_pp_download(h("00 AA BB"))) == golden
    assert responses.read_sms_pp_download(h(golden)) == h("00 AA BB")


# C.S0015 SMS Submit of "YE" to 10658, counter 1, worked out bit by bit:
#   00                       point-to-point
#   00 02 10 02              teleservice identifier 4098 (CMT-95)
#   04 04 01 46 99 60        destination: DIGIT_MODE 0, NUMBER_MODE 0, NUM_FIELDS 00000101,
#                            DTMF 0001 1010 0110 0101 1000 (1 0 6 5 8), 2 pad bits
#   08 0B                    bearer data:
#      00 03 20 00 10        message identifier: TYPE 0010 (submit), ID 0x0001, HEADER_IND 0
#      01 04 10 15 98 A0     user data: ENCODING 00010 (7-bit ASCII), NUM_FIELDS 2,
#                            Y 1011001, E 1000101, 5 pad bits
YE = "00 00 02 10 02 04 04 01 46 99 60 08 0B 00 03 20 00 10 01 04 10 15 98 A0"


def test_cdma_sms_submit_bytes() -> None:
    """The CDMA-SMS TPDU the card sends, bit-packed as C.S0015 lays it out."""
    msg = cdma_sms.Message(cdma_sms.CMT95, "10658", cdma_sms.SUBMIT, 1, text="YE")
    assert tlv.hexdump(cdma_sms.encode(msg)) == YE
    assert cdma_sms.decode(h(YE)) == msg


def test_cdma_sms_data_download_round_trip() -> None:
    """A CATPT (4103) delivery with a user data header and octet user data reads back whole."""
    msg = cdma_sms.Message(cdma_sms.CATPT, "10658", cdma_sms.DELIVER, 0, data=b"\x02\x70\x00\x01",
                           header=True)
    raw = cdma_sms.encode(msg)
    assert raw[:5] == h("00 00 02 10 07") and raw[5] == 0x02  # teleservice, then the origin
    assert cdma_sms.decode(raw) == msg


def test_tlv_long_length_and_truncation() -> None:
    """Lengths above 127 take the 81 nn form; a TLV cut short is refused."""
    assert tlv.encode(0x8D, bytes(200))[:3] == h("8D 81 C8")
    assert tlv.parse(tlv.encode(0x8D, bytes(200)))[0].value == bytes(200)
    with pytest.raises(tlv.TlvError):
        tlv.parse(h("8D 05 04 31"))
