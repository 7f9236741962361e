"""How the card toolkit writes text: text strings with a DCS byte, alpha identifiers (TS 102 221 A)."""

from __future__ import annotations

DCS_8BIT = 0x04
"""Text string coding: 8-bit data (the GSM default alphabet's ASCII subset here)."""
DCS_UCS2 = 0x08
UCS2_ALPHA = 0x80
"""An alpha identifier or item text in UCS2: this byte, then big-endian 16-bit characters."""


def _ascii(text: str) -> bool:
    return all(0x20 <= ord(c) < 0x7F and c not in "@$_`" for c in text) or text == ""


def text_string(text: str) -> bytes:
    """The value of a text string (tag 0x8D): DCS 0x04 for plain ASCII, else 0x08 UCS2."""
    if _ascii(text.replace("\n", " ")):
        return bytes([DCS_8BIT]) + text.encode("ascii")
    return bytes([DCS_UCS2]) + text.encode("utf-16-be")


def read_text_string(value: bytes) -> str:
    if not value:
        return ""
    dcs, body = value[0], value[1:]
    if dcs & 0x0C == DCS_UCS2:
        return body.decode("utf-16-be")
    if dcs & 0x0C == DCS_8BIT:
        return body.decode("latin-1")
    raise ValueError(f"text string DCS {dcs:#04x}: packed 7-bit is not used by this card")


def alpha(text: str) -> bytes:
    """An alpha identifier or item text: the bytes themselves when ASCII, else ``80`` + UCS2."""
    if _ascii(text):
        return text.encode("ascii")
    return bytes([UCS2_ALPHA]) + text.encode("utf-16-be")


def read_alpha(value: bytes) -> str:
    if value[:1] == bytes([UCS2_ALPHA]):
        return value[1:].decode("utf-16-be")
    return value.rstrip(b"\xff").decode("latin-1")
