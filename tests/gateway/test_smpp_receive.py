"""What of a deliver_sm reaches the menu: normalized senders, codings, notices and data dropped."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsmenu.core.types import Inbound, Msisdn, Reply
from smsmenu.gateway.base import Answered, sender_msisdn
from smsmenu.gateway.smpp_codec import ROK, RX_T_APPNACK, Pdu, Sequence, encode, make, parse
from smsmenu.gateway.smpp_coding import BINARY, GSM, UCS2, charset
from smsmenu.gateway.smpp_inbound import parse_receipt
from smsmenu.gateway.smpp_receive import MoReceiver, _receipt_fields
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import decode, gsm_encode

AGENT = "18900000001"


class FakeSession:
    """Records what the receiver answers, in place of a link."""

    name = "fake"

    def __init__(self) -> None:
        self.answers: list[tuple[int, int]] = []
        self.nacks: list[tuple[int, int]] = []

    def respond(self, pdu: Pdu, status: int = ROK, **fields: Any) -> None:
        self.answers.append((pdu.sequence, status))

    def nack(self, sequence: int, status: int) -> None:
        self.nacks.append((sequence, status))


class Menu:
    """A stand-in for the engine that records what reached it, and receipts."""

    def __init__(self) -> None:
        self.seen: list[Inbound] = []
        self.receipts: list[tuple[str, str]] = []

    def sender(self, raw: str) -> Msisdn | None:
        return sender_msisdn(raw)

    async def __call__(self, inbound: Inbound) -> Answered:
        self.seen.append(inbound)
        return Answered([Reply(inbound.msisdn, "menu")])

    async def receipt(self, message_id: str, stat: str, raw: str) -> None:
        self.receipts.append((message_id, stat))


def deliver_sm(**fields: Any) -> Pdu:
    """A deliver_sm as it comes off the wire (encoded, then parsed)."""
    fields = {"source_addr": AGENT, "destination_addr": "10658", "short_message": b"1", **fields}
    return parse(encode(make("deliver_sm", Sequence(), **fields)))


async def receive(pdu: Pdu) -> tuple[Menu, FakeSession, MoReceiver]:
    """One deliver_sm through a fresh receiver."""
    menu, session = Menu(), FakeSession()
    receiver = MoReceiver(menu, on_receipt=menu.receipt)
    await receiver(cast(SmppSession, session), pdu)
    return menu, session, receiver


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("+8618900000001", AGENT, id="plus-86"),
        pytest.param("8618900000001", AGENT, id="86"),
        pytest.param("008618900000001", AGENT, id="0086"),
        pytest.param(" 18900000001 ", AGENT, id="spaces"),
        pytest.param("18900000001", AGENT, id="national"),
        pytest.param("8613912345", "8613912345", id="short-86-kept"),
        pytest.param("", None, id="empty"),
        pytest.param("CTELECOM", None, id="alphanumeric"),
        pytest.param("+", None, id="plus-only"),
    ],
)
def test_sender_msisdn_normalizes_through_the_number_plan(raw: str, expected: str | None) -> None:
    """Country codes of the number plan come off; a sender that is no phone number gives None."""
    assert sender_msisdn(raw) == expected


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("+8618900000001", id="plus-86"),
        pytest.param("8618900000001", id="86"),
        pytest.param("008618900000001", id="0086"),
        pytest.param("18900000001", id="national"),
    ],
)
async def test_smpp_sender_reaches_the_menu_as_the_agent_number(source: str) -> None:
    """An SMPP sender with a country code reaches the menu as the agent's national number."""
    menu, session, _ = await receive(deliver_sm(source_addr=source))
    assert [m.msisdn for m in menu.seen] == [AGENT]
    assert [status for _, status in session.answers] == [ROK]


@pytest.mark.parametrize(
    ("data_coding", "expected"),
    [
        pytest.param(0x00, GSM, id="smsc-default"),
        pytest.param(0x01, "ascii", id="ia5"),
        pytest.param(0x03, "latin-1", id="latin-1"),
        pytest.param(0x08, UCS2, id="ucs2"),
        pytest.param(0x02, BINARY, id="octets-2"),
        pytest.param(0x04, BINARY, id="octets-4"),
        pytest.param(0x10, GSM, id="gsm7-class-0"),
        pytest.param(0x11, GSM, id="gsm7-class-1"),
        pytest.param(0x14, BINARY, id="8bit-class-0"),
        pytest.param(0x18, UCS2, id="ucs2-class-0"),
        pytest.param(0x1A, UCS2, id="ucs2-class-2"),
        pytest.param(0x1C, GSM, id="reserved-alphabet"),
        pytest.param(0x38, BINARY, id="compressed-ucs2"),
        pytest.param(0x48, UCS2, id="auto-delete-ucs2"),
        pytest.param(0x90, GSM, id="reserved-group"),
        pytest.param(0xC0, GSM, id="mwi-discard"),
        pytest.param(0xD8, GSM, id="mwi-store"),
        pytest.param(0xE0, UCS2, id="mwi-store-ucs2"),
        pytest.param(0xF0, GSM, id="gsm7-class-0-f"),
        pytest.param(0xF3, GSM, id="gsm7-class-3-f"),
        pytest.param(0xF4, BINARY, id="8bit-class-0-f"),
        pytest.param(0xF6, BINARY, id="8bit-class-2-f"),
    ],
)
def test_data_coding_is_read_per_smpp_and_gsm_03_38(data_coding: int, expected: str) -> None:
    """data_coding names its alphabet as SMPP 3.4 and the GSM 03.38 coding groups say."""
    assert charset(data_coding) == expected


@pytest.mark.parametrize(
    ("data_coding", "body", "text"),
    [
        pytest.param(0x18, "充值 1".encode("utf-16-be"), "充值 1", id="ucs2-class-0"),
        pytest.param(0xF0, gsm_encode("1 @ £5"), "1 @ £5", id="gsm7-class-0"),
        pytest.param(0x10, gsm_encode("Ok_§"), "Ok_§", id="gsm7-class-0-general"),
        pytest.param(0x00, gsm_encode("1 @"), "1 @", id="default"),
        pytest.param(0x08, "余额".encode("utf-16-be"), "余额", id="ucs2"),
    ],
)
async def test_class_codings_reach_the_menu_as_their_text(
    data_coding: int, body: bytes, text: str
) -> None:
    """UCS2 and GSM 7-bit texts with a message class reach the menu decoded, not as Latin-1."""
    assert decode(body, data_coding) == text
    menu, _, _ = await receive(deliver_sm(data_coding=data_coding, short_message=body))
    assert [m.text for m in menu.seen] == [text]


@pytest.mark.parametrize(
    "esm_class",
    [
        pytest.param(0x08, id="sme-delivery-ack"),
        pytest.param(0x10, id="sme-manual-ack"),
        pytest.param(0x18, id="conversation-abort"),
        pytest.param(0x20, id="intermediate-notification"),
        pytest.param(0x20 | 0x40, id="intermediate-notification-udhi"),
    ],
)
async def test_notifications_are_acknowledged_and_never_reach_the_menu(esm_class: int) -> None:
    """Acknowledgements and notifications get deliver_sm_resp OK and reach neither menu nor book."""
    menu, session, receiver = await receive(deliver_sm(esm_class=esm_class, short_message=b"1"))
    assert menu.seen == [] and menu.receipts == []
    assert [status for _, status in session.answers] == [ROK]
    assert sum(receiver.dropped.values()) == 1


async def test_receipts_still_go_to_the_receipt_handler() -> None:
    """A delivery receipt reaches on_receipt, never the menu."""
    text = b"id:00ab sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000"
    menu, session, _ = await receive(deliver_sm(esm_class=0x04, short_message=text))
    assert menu.receipts == [("00ab", "DELIVRD")]
    assert menu.seen == []
    assert [status for _, status in session.answers] == [ROK]


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        pytest.param({"data_coding": 0x04, "short_message": b"\x01\x02"}, "data, not text",
                     id="8bit"),
        pytest.param({"data_coding": 0x02, "short_message": b"1"}, "data, not text", id="octets"),
        pytest.param({"data_coding": 0xF4, "short_message": b"1"}, "data, not text",
                     id="8bit-class-0"),
        pytest.param({"data_coding": 0x15, "short_message": b"1"}, "data, not text",
                     id="8bit-class-1"),
        pytest.param({"data_coding": 0x28, "short_message": b"\x00\x31"}, "data, not text",
                     id="compressed"),
        pytest.param({"esm_class": 0x40, "data_coding": 0xF5,
                      "short_message": bytes([6, 5, 4, 0x0B, 0x84, 0x23, 0xF0]) + b"\xde\xad"},
                     "data, not text", id="wap-push-port-udh"),
        pytest.param({"source_addr": ""}, "no phone number as sender", id="empty-sender"),
        pytest.param({"source_addr": "CTELECOM"}, "no phone number as sender", id="alpha-sender"),
    ],
)  # fmt: skip
async def test_data_and_senderless_messages_are_dropped(fields: dict[str, Any], why: str) -> None:
    """Binary messages and messages without a phone number as sender are acked and dropped."""
    menu, session, receiver = await receive(deliver_sm(**fields))
    assert menu.seen == []
    assert [status for _, status in session.answers] == [ROK]
    assert receiver.dropped == {why: 1}


async def test_text_with_a_udh_other_than_concatenation_is_read_without_it() -> None:
    """A text whose UDH carries e.g. a national language shift reaches the menu as its text."""
    udh = bytes([3, 0x24, 1, 0x01])  # national language single shift: not a part
    menu, _, receiver = await receive(deliver_sm(esm_class=0x40, short_message=udh + b"1"))
    assert [m.text for m in menu.seen] == ["1"]
    assert not receiver.dropped


async def test_other_requests_than_deliver_sm_get_generic_nack_with_their_sequence() -> None:
    """A submit_sm sent to the ESME is refused with generic_nack carrying its sequence."""
    menu, session = Menu(), FakeSession()
    pdu = parse(encode(make("submit_sm", Sequence(), sequence=4321, short_message=b"1")))
    await MoReceiver(menu)(cast(SmppSession, session), pdu)
    assert [seq for seq, _ in session.nacks] == [4321]
    assert menu.seen == []


class Sink:
    """A ``ReceiptSink``: takes receipts without being awaited, refuses when told to."""

    def __init__(self, takes: bool = True) -> None:
        self.takes = takes
        self.noted: list[tuple[str, str]] = []

    def note(self, message_id: str, stat: str, raw: str) -> bool:
        if self.takes:
            self.noted.append((message_id, stat))
        return self.takes

    async def __call__(self, message_id: str, stat: str, raw: str) -> None:
        raise AssertionError("a sink with note() is never awaited")


RECEIPT = b"id:00ab sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000"


@pytest.mark.parametrize(("takes", "status"), [(True, ROK), (False, RX_T_APPNACK)])
async def test_receipts_for_a_sink_are_answered_inline(takes: bool, status: int) -> None:
    """A receipt for a ``ReceiptSink`` is taken and answered in the reading turn (no task);
    one the sink refuses (too many waiting) is ESME_RX_T_APPN: the SMSC delivers it again."""
    menu, session, sink = Menu(), FakeSession(), Sink(takes)
    receiver = MoReceiver(menu, on_receipt=sink)
    assert receiver.inline(cast(SmppSession, session), deliver_sm(esm_class=0x04,
                                                                  short_message=RECEIPT))
    assert session.answers == [(session.answers[0][0], status)]
    assert sink.noted == ([("00ab", "DELIVRD")] if takes else [])
    assert menu.seen == []


async def test_only_receipts_for_a_sink_or_for_nobody_are_answered_inline() -> None:
    """Messages, and receipts for an awaited handler, are left to the receiver's task."""
    menu, session = Menu(), FakeSession()
    awaited = MoReceiver(menu, on_receipt=menu.receipt)
    receipt = deliver_sm(esm_class=0x04, short_message=RECEIPT)
    assert not awaited.inline(cast(SmppSession, session), receipt)
    assert not awaited.inline(cast(SmppSession, session), deliver_sm())
    assert session.answers == []
    await awaited(cast(SmppSession, session), receipt)
    assert menu.receipts == [("00ab", "DELIVRD")]
    nobody = MoReceiver(menu)
    assert nobody.inline(cast(SmppSession, session), receipt)
    assert [status for _, status in session.answers] == [ROK, ROK]


@given(state=st.one_of(st.none(), st.integers(0, 9)),
       tlv_id=st.one_of(st.none(), st.sampled_from(["", "\0", "AB12", "AB12\0", " x "])),
       text=st.one_of(st.just(RECEIPT), st.binary(max_size=80), st.just(b"id:zz stat:undeliv")))  # fmt: skip
def test_receipt_fields_are_parse_receipts(state: int | None, tlv_id: str | None,
                                           text: bytes) -> None:  # fmt: skip
    """The inline path's shortcut (both TLVs given) reads what parse_receipt reads."""
    fields: dict[str, Any] = {"esm_class": 0x04, "short_message": text}
    if state is not None:
        fields["message_state"] = state
    if tlv_id is not None:
        fields["receipted_message_id"] = tlv_id
    pdu = deliver_sm(**fields)
    receipt = parse_receipt(pdu)
    assert _receipt_fields(pdu) == (receipt.message_id, receipt.stat, receipt.text)
