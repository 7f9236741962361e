"""SMGP's field types: fixed-width octet strings and integers read off a body, and TLVs."""

from __future__ import annotations

import struct

from smsmenu.gateway.smgp_codec import PacketError


class Reader:
    """Reads fixed-width fields off a body; ``PacketError`` when it runs short."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pos = 0

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.body):
            raise PacketError(f"body of {len(self.body)} octets ends inside a field at {self.pos}")
        out = self.body[self.pos : end]
        self.pos = end
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def text(self, size: int) -> str:
        """A fixed-width octet string: NUL (or space) padding removed, read as ASCII/Latin-1."""
        return self.take(size).rstrip(b"\0 ").decode("latin-1")

    def rest(self) -> bytes:
        out = self.body[self.pos :]
        self.pos = len(self.body)
        return out


def fixed(text: str | bytes, size: int) -> bytes:
    """``text`` NUL-padded to ``size`` octets; ``ValueError`` when longer."""
    raw = text.encode("ascii") if isinstance(text, str) else text
    if len(raw) > size:
        raise ValueError(f"{raw!r} longer than {size} octets")
    return raw.ljust(size, b"\0")


TLVs = tuple[tuple[int, bytes], ...]


def encode_tlvs(tlvs: TLVs) -> bytes:
    return b"".join(struct.pack(">HH", tag, len(value)) + value for tag, value in tlvs)


def decode_tlvs(data: bytes) -> TLVs:
    """``(tag, value)`` pairs in order; a TLV running past the end is a ``PacketError``."""
    out, pos = [], 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise PacketError("a TLV header cut short")
        tag, size = struct.unpack_from(">HH", data, pos)
        pos += 4
        if pos + size > len(data):
            raise PacketError(f"TLV 0x{tag:04X} of {size} octets runs past the body")
        out.append((tag, data[pos : pos + size]))
        pos += size
    return tuple(out)


def tlv(tlvs: TLVs, tag: int) -> bytes | None:
    """The first value of ``tag``, or None."""
    return next((value for t, value in tlvs if t == tag), None)


def tlv_int(tlvs: TLVs, tag: int) -> int | None:
    value = tlv(tlvs, tag)
    return int.from_bytes(value, "big") if value else None
