"""Reads whole SMPP frames off an asyncio stream, skipping garbage up to a plausible header."""

from __future__ import annotations

import asyncio

from smpplib import command_codes

from smsmenu.gateway.smpp_codec import HEADER, MAX_PDU

_CMD_PREFIXES = frozenset(
    code.to_bytes(4, "big")[:k] for code in command_codes.commands.values() for k in range(5)
)


class PduReader:
    """Reads whole frames off a stream; skips garbage up to the next plausible header."""

    def __init__(self, stream: asyncio.StreamReader, max_length: int = MAX_PDU) -> None:
        self._stream = stream
        self._max = max_length
        self._buf = bytearray()

    def _plausible(self, head: bytes) -> bool:
        low = int.from_bytes(head[:4].ljust(4, b"\0"), "big")
        high = int.from_bytes(head[:4].ljust(4, b"\xff"), "big")
        return low <= self._max and high >= HEADER and head[4:8] in _CMD_PREFIXES

    def _garbage(self) -> int:
        buf, skip = self._buf, 0
        while skip < len(buf) and not self._plausible(bytes(buf[skip : skip + 8])):
            skip += 1
        return skip

    async def read(self) -> bytes | int:
        """The next frame, or the number of garbage bytes just discarded (> 0)."""
        buf = self._buf
        while True:
            skipped = self._garbage()
            if skipped:
                del buf[:skipped]
                return skipped
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
