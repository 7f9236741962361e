"""BER-TLV and COMPREHENSION-TLV as ETSI TS 102 223 uses them: one-byte tags, short lengths."""

from __future__ import annotations

from dataclasses import dataclass

CR = 0x80
"""The comprehension-required flag of a one-byte COMPREHENSION-TLV tag."""


class TlvError(ValueError):
    """Bytes that are no well-formed TLV (a length past the end, a length form not supported)."""


@dataclass(frozen=True)
class Tlv:
    """One data object: its tag (as sent, flag included) and its value."""

    tag: int
    value: bytes

    @property
    def base(self) -> int:
        """The tag without the comprehension-required flag (``0x81`` and ``0x01`` are one)."""
        return self.tag & 0x7F


def length(n: int) -> bytes:
    """A BER length: one byte up to 127, ``81 nn`` up to 255 (TS 102 223 annex C)."""
    if n < 0x80:
        return bytes([n])
    if n <= 0xFF:
        return bytes([0x81, n])
    if n <= 0xFFFF:
        return bytes([0x82, n >> 8, n & 0xFF])
    raise TlvError(f"length {n} too long")


def encode(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + length(len(value)) + value


def parse(data: bytes) -> list[Tlv]:
    """Every TLV of ``data`` in order; raises ``TlvError`` on a truncated one."""
    out, i = [], 0
    while i < len(data):
        if i + 2 > len(data):
            raise TlvError(f"truncated TLV at {i}")
        tag, n, i = data[i], data[i + 1], i + 2
        if n == 0x81:
            n, i = data[i], i + 1
        elif n == 0x82:
            n, i = int.from_bytes(data[i:i + 2], "big"), i + 2
        elif n > 0x80:
            raise TlvError(f"length form {n:#x} at {i - 1}")
        if i + n > len(data):
            raise TlvError(f"TLV {tag:#04x} wants {n} bytes, {len(data) - i} left")
        out.append(Tlv(tag, data[i:i + n]))
        i += n
    return out


def unwrap(data: bytes, tag: int) -> list[Tlv]:
    """The inner TLVs of a BER-TLV template (``D0`` proactive command, ``D1``/``D3`` envelope)."""
    outer = parse(data)
    if len(outer) != 1 or outer[0].tag != tag:
        raise TlvError(f"expected one {tag:#04x} template, got {[hex(t.tag) for t in outer]}")
    return parse(outer[0].value)


def hexdump(data: bytes) -> str:
    """Bytes as the tester reads them: upper-case hex pairs separated by blanks."""
    return data.hex(" ").upper()
