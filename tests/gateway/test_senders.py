"""Every transport cleans its sender the same way (the number plan's country codes)."""

from __future__ import annotations

import json

import pytest

from smsmenu.core.clock import ManualClock
from smsmenu.core.errors import InvalidCommand
from smsmenu.gateway.base import sender_msisdn
from smsmenu.gateway.http import parse_sms
from smsmenu.gateway.kannel import parse_mo

SENDERS = [
    pytest.param("18900000001", id="plain"),
    pytest.param("+8618900000001", id="plus-86"),
    pytest.param("8618900000001", id="86"),
    pytest.param("008618900000001", id="0086"),
]


@pytest.mark.parametrize("sender", SENDERS)
def test_http_and_kannel_name_the_agent_as_smpp_does(sender: str) -> None:
    """Issue 10: /api/sms and /kannel/mo reduce every form of a number to the agent's own."""
    clock = ManualClock("2026-11-10T10:00:00")
    body = json.dumps({"from": sender, "text": "1", "id": "a"}).encode()
    assert parse_sms(body, clock, sender_msisdn).msisdn == "18900000001"
    assert parse_mo({"from": sender.encode(), "text": b"1", "id": b"k"}, clock,
                    sender_msisdn).msisdn == "18900000001"
    assert sender_msisdn(sender) == "18900000001"


@pytest.mark.parametrize("sender", ["", "+", "abc", "1234", "+86-189"])
def test_a_sender_that_names_no_phone_is_refused(sender: str) -> None:
    """What names no phone number is a 400 with the reason, never a menu session."""
    with pytest.raises(InvalidCommand):
        parse_sms(json.dumps({"from": sender, "text": "1"}).encode(), ManualClock("2026-11-10"),
                  sender_msisdn)
