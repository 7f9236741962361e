"""The one number an agent quotes for a recharge (单号): its id, 8 digits, 2 check digits.

Every SMS, portal page, CSV and the hotline show ``quote(recharge_id)``, e.g. ``0000004269``
for recharge 42: the id zero-padded to ``WIDTH`` digits followed by two ISO 7064 MOD 97-10
check digits (as in an IBAN), so any one wrong digit and any swap of two neighbours is caught.
Digits only, because a UTK card's input is. ``read`` takes it back; for one release it also
takes the plain id (``CF*42*...``) that failure SMS quoted before.
"""

from __future__ import annotations

WIDTH = 8
"""Digits of the id part (wider ids keep all their digits)."""
LEGACY_MAX = WIDTH
"""A plain id, as quoted before, has at most this many digits and no leading zero."""


def check_digits(body: str) -> str:
    """The two ISO 7064 MOD 97-10 check digits of a string of digits."""
    return f"{98 - int(body) * 100 % 97:02d}"


def quote(recharge_id: int) -> str:
    """The reference agents read and type: the padded id and its check digits."""
    body = f"{recharge_id:0{WIDTH}d}"
    return body + check_digits(body)


def valid(text: str) -> bool:
    """A well-formed reference: ASCII digits, long enough, its check digits right."""
    return (text.isascii() and text.isdigit() and len(text) >= WIDTH + 2
            and int(text) % 97 == 1)


def read(text: str) -> int | None:
    """The recharge id a typed reference names, or None: a reference with right check digits,
    or (for one release) the plain id of old SMS."""
    text = text.strip()
    if valid(text):
        return int(text[:-2])
    if text.isascii() and text.isdigit() and len(text) <= LEGACY_MAX and text[0] != "0":
        return int(text)
    return None
