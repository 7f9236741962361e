"""Reads whole SMPP frames off an asyncio stream, skipping garbage up to a plausible header."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from smsmenu.gateway.smpp_codec import HEADER, MAX_PDU

SMPP_COMMANDS = frozenset(
    {*range(0x01, 0x0A), 0x0B, 0x15, 0x21, 0x102, 0x103, 0x111, 0x112, 0x113, *range(0x10200, 0x10300)}
)
"""Request command_ids of SMPP 3.4 and 5.0 and the SMSC vendor range; those smpplib cannot read
are still framed, and answered generic_nack ESME_RINVCMDID with their sequence number."""
_IDS = [(code | response).to_bytes(4, "big") for code in SMPP_COMMANDS for response in (0, 1 << 31)]
_PREFIXES = frozenset(code[:k] for code in [*_IDS, (1 << 31).to_bytes(4, "big")] for k in range(5))
_WHOLE_IDS = frozenset(code for code in _PREFIXES if len(code) == 4)
"""Every full command_id ``_command_ok`` accepts (generic_nack included)."""


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes skipped to reach the next plausible header.

    ``sequence`` is that of the PDU the bytes began with when its header was readable (a known
    command whose length is over the limit), else 0: what the generic_nack carries.
    """

    skipped: int
    sequence: int = 0


def _command_ok(head: bytes | bytearray) -> bool:
    """``head`` (up to 4 octets) is, or begins, an SMPP command_id (generic_nack included)."""
    return bytes(head[:4]) in _PREFIXES


class PduReader:
    """Reads whole frames off a stream; skips garbage up to the next plausible header."""

    def __init__(self, stream: asyncio.StreamReader, max_length: int = MAX_PDU) -> None:
        self._stream = stream
        self._max = max_length
        self._buf = bytearray()

    def _plausible(self, head: bytes) -> bool:
        low = int.from_bytes(head[:4].ljust(4, b"\0"), "big")
        high = int.from_bytes(head[:4].ljust(4, b"\xff"), "big")
        return low <= self._max and high >= HEADER and _command_ok(head[4:8])

    def _garbage(self) -> int:
        buf, skip = self._buf, 0
        while skip < len(buf) and not self._plausible(bytes(buf[skip : skip + 8])):
            skip += 1
        return skip

    def _oversized(self) -> bool:
        """The buffer starts with a header of a PDU longer than the limit."""
        buf = self._buf
        return len(buf) >= 8 and int.from_bytes(buf[:4], "big") > self._max and _command_ok(buf[4:8])

    async def read(self) -> bytes | Garbage:
        """The next frame, or what was just discarded (``Garbage.skipped`` > 0)."""
        buf = self._buf
        while True:
            if len(buf) >= 8:  # the usual case: a well-formed frame first; same answer, quicker
                length = int.from_bytes(buf[:4], "big")
                if HEADER <= length <= self._max and len(buf) >= length \
                        and bytes(buf[4:8]) in _WHOLE_IDS:  # fmt: skip
                    frame = bytes(buf[:length])
                    del buf[:length]
                    return frame
            oversized = self._oversized()
            if not oversized or len(buf) >= HEADER:
                skipped = self._garbage()
                if skipped:
                    sequence = int.from_bytes(buf[12:16], "big") if oversized else 0
                    del buf[:skipped]
                    return Garbage(skipped, sequence)
                if len(buf) >= 8:
                    length = int.from_bytes(buf[:4], "big")
                    if len(buf) >= length:
                        frame = bytes(buf[:length])
                        del buf[:length]
                        return frame
            chunk = await self._stream.read(65_536)
            if not chunk:
                raise ConnectionResetError("the peer closed the link")
            buf += chunk
