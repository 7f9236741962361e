"""The agent's one reference (单号): the recharge id, fixed width, ISO 7064 MOD 97-10 checked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsmenu.core import refno


def test_quote_is_the_padded_id_and_two_check_digits() -> None:
    """Recharge 42 reads 0000004269: 8 digits of id, then 98 - (id * 100 mod 97)."""
    assert refno.quote(42) == "0000004269" and refno.quote(1) == "0000000195"
    assert int(refno.quote(42)) % 97 == 1 and refno.quote(123_456_789) == "12345678978"


@given(st.integers(min_value=1, max_value=10**12))
def test_read_takes_back_what_quote_gives(recharge_id: int) -> None:
    """Any id survives the round trip."""
    assert refno.read(refno.quote(recharge_id)) == recharge_id


@given(st.integers(min_value=1, max_value=10**9), st.data())
def test_one_wrong_digit_or_a_swap_is_caught(recharge_id: int, data: st.DataObject) -> None:
    """Every single-digit error and every swap of two different neighbours fails the check."""
    text = refno.quote(recharge_id)
    at = data.draw(st.integers(0, len(text) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != text[at]]))
    assert not refno.valid(text[:at] + digit + text[at + 1:])
    if at + 1 < len(text) and text[at] != text[at + 1]:
        assert not refno.valid(text[:at] + text[at + 1] + text[at] + text[at + 2:])


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("42", 42, id="legacy-plain-id"),
    pytest.param(" 0000004269 ", 42, id="spaces"),
    pytest.param("0000004268", None, id="bad-check"),
    pytest.param("042", None, id="leading-zero-not-legacy"),
    pytest.param("123456789", None, id="nine-digits"),
    pytest.param("abc", None, id="not-digits"),
    pytest.param("４２", None, id="full-width"),
    pytest.param("", None, id="empty"),
])
def test_read(text: str, expected: int | None) -> None:
    """A reference or (for one release) the plain id of old SMS; anything else is None."""
    assert refno.read(text) == expected
