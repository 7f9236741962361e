"""SMGP 3.0 packets on the wire: the 12-byte header, command ids, fixed-width fields, TLVs."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from enum import IntEnum

HEADER = 12
"""PacketLength u32, RequestID u32, SequenceID u32 (big-endian)."""
MAX_PACKET = 4096
"""Longest packet read: a Submit to one number with 255 octets and every TLV is far below; a
longer length field is an error (the link is dropped), never an allocation."""
RESPONSE = 0x8000_0000
MAX_SEQUENCE = 0xFFFF_FFFF
VERSION = 0x30
"""ClientVersion / ServerVersion of SMGP 3.0."""


class Cmd(IntEnum):
    """Request ids (a response is the id | ``RESPONSE``)."""

    LOGIN = 0x01
    SUBMIT = 0x02
    DELIVER = 0x03
    ACTIVE_TEST = 0x04
    FORWARD = 0x05
    EXIT = 0x06
    QUERY = 0x07
    MT_ROUTE_UPDATE = 0x08
    MO_ROUTE_UPDATE = 0x09
    FORWARD_ROUTE_UPDATE = 0x0A
    LAST = 0x12
    """The highest request id of SMGP 3.0/3.1 (the others are answered unsupported)."""


class Status(IntEnum):
    """Status codes of responses (CT/T4-2005, the ones we send or act on)."""

    OK = 0
    BUSY = 1
    """System busy: try again later (an MO so answered is delivered again)."""
    TOO_MANY_LINKS = 2
    BAD_STRUCTURE = 10
    BAD_COMMAND = 11
    DUPLICATE_SEQUENCE = 12
    BAD_ADDRESS = 20
    BAD_AUTH = 21
    VERSION_TOO_HIGH = 22
    BAD_MSG_FORMAT = 34
    BAD_LENGTH = 36
    OVER_DAILY_LIMIT = 75


RETRYABLE = frozenset({Status.BUSY, Status.OVER_DAILY_LIMIT})
"""Submit statuses after which the same Submit may succeed later: the link slows down."""


def status_text(status: int) -> str:
    """``21 BAD_AUTH`` for logs and errors."""
    try:
        return f"{status} {Status(status).name}"
    except ValueError:
        return f"{status} (unknown status)"


class Tag(IntEnum):
    """TLV tags of Submit and Deliver (SMGP 3.0 optional parameters)."""

    TP_PID = 0x0001
    TP_UDHI = 0x0002
    LINK_ID = 0x0003
    CHARGE_USER_TYPE = 0x0004
    PK_TOTAL = 0x0009
    PK_NUMBER = 0x000A
    SUBMIT_MSG_TYPE = 0x000B
    SRC_TERM_TYPE = 0x000D
    MSG_SRC = 0x0010
    M_SERVICE_ID = 0x0012


class PacketError(ValueError):
    """A packet we cannot read; ``fatal`` when the stream cannot be trusted after it."""

    def __init__(self, why: str, fatal: bool = False) -> None:
        super().__init__(why)
        self.fatal = fatal


@dataclass(frozen=True, slots=True)
class Frame:
    """One packet as read: its header's ids and its body (the bytes after the header)."""

    command: int
    sequence: int
    body: bytes

    @property
    def is_response(self) -> bool:
        return bool(self.command & RESPONSE)


_HEAD = struct.Struct(">LLL")


def frame(command: int, sequence: int, body: bytes = b"") -> bytes:
    """The wire bytes of one packet."""
    return _HEAD.pack(HEADER + len(body), command, sequence) + body


def read_length(head: bytes, limit: int = MAX_PACKET) -> int:
    """The PacketLength of a header's first four bytes, checked against ``limit``."""
    length = int.from_bytes(head[:4], "big")
    if not HEADER <= length <= limit:
        raise PacketError(f"packet length {length} outside {HEADER}..{limit}", fatal=True)
    return length


def split_frame(packet: bytes, limit: int = MAX_PACKET) -> Frame:
    """A whole packet (header included) as a ``Frame``."""
    if len(packet) < HEADER:
        raise PacketError("shorter than the header", fatal=True)
    length = read_length(packet, limit)
    if length != len(packet):
        raise PacketError(f"packet length {length} but {len(packet)} octets", fatal=True)
    _length, command, sequence = _HEAD.unpack_from(packet)
    return Frame(command, sequence, packet[HEADER:])


async def read_frame(stream: asyncio.StreamReader, limit: int = MAX_PACKET) -> Frame:
    """The next packet; a length outside 12..``limit`` is a fatal ``PacketError`` (no read of
    the announced length: a hostile length allocates nothing)."""
    head = await stream.readexactly(HEADER)
    length = read_length(head, limit)
    rest = await stream.readexactly(length - HEADER) if length > HEADER else b""
    return split_frame(head + rest, limit)
