"""What a data_coding octet says, per SMPP 3.4 §5.2.19 and the GSM 03.38 coding groups it refers to.

``0x00``-``0x0E`` are SMPP's own: SMSC default (GSM 7-bit here), IA5, octets, Latin-1, JIS,
Cyrillic, Hebrew, UCS2, pictograms, ISO-2022-JP, extended kanji, KS C 5601. Above, the GSM
03.38 groups: ``00xx``/``01xx`` (general, and marked for automatic deletion) carry the alphabet
in bits 3-2 (00 GSM 7-bit, 01 8-bit data, 10 UCS2) and compression in bit 5; ``1100``/``1101``
(message waiting, discard/store) are GSM 7-bit, ``1110`` (message waiting, store) UCS2;
``1111`` has the alphabet in bit 2 (0 GSM 7-bit, 1 8-bit data). Reserved codings are read as
GSM 7-bit, as GSM 03.38 asks of a receiving entity. The message class never changes the text.
"""

from __future__ import annotations

from typing import Final

GSM = "gsm7"
UCS2 = "utf-16-be"
BINARY = "binary"
"""8-bit data or compressed text: not text a menu can read."""
UNREADABLE = "unreadable"
"""A character set with no decoder here (SMPP pictograms)."""

_SMPP: Final[dict[int, str]] = {
    0x00: GSM, 0x01: "ascii", 0x02: BINARY, 0x03: "latin-1", 0x04: BINARY, 0x05: "shift_jis",
    0x06: "iso8859-5", 0x07: "iso8859-8", 0x08: UCS2, 0x09: UNREADABLE, 0x0A: "iso2022_jp",
    0x0D: "euc_jis_2004", 0x0E: "euc_kr",
}  # fmt: skip
_ALPHABET: Final = (GSM, BINARY, UCS2, GSM)
"""GSM 03.38 alphabet bits 3-2 of the general groups; 11 is reserved (GSM 7-bit)."""


def charset(data_coding: int) -> str:
    """How to read a short message of ``data_coding``: a Python codec, ``GSM``, ``BINARY``, ...

    ``0x18`` (UCS2, class 0) is UCS2; ``0xF0`` (GSM 7-bit, class 0) is GSM 7-bit; ``0xF4``
    (8-bit data, class 0) is binary.
    """
    dc = data_coding & 0xFF
    if dc in _SMPP:
        return _SMPP[dc]
    group = dc >> 4
    if group <= 0x7:  # 00xx general, 01xx automatic deletion
        return BINARY if dc & 0x20 else _ALPHABET[(dc >> 2) & 0x3]
    if group in (0xC, 0xD):
        return GSM
    if group == 0xE:
        return UCS2
    if group == 0xF:
        return BINARY if dc & 0x04 else GSM
    return GSM  # 1000-1011: reserved groups


def is_text(data_coding: int) -> bool:
    """Whether a message of this coding is text (a menu input), not data."""
    return charset(data_coding) not in (BINARY, UNREADABLE)
