"""One SMGP connection, either side: packets framed, requests matched to responses in a window."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from smsmenu.gateway.smgp_codec import (
    RESPONSE,
    Cmd,
    Frame,
    PacketError,
    Status,
    frame,
    read_frame,
)
from smsmenu.gateway.smgp_packets import Bare, Packet, Unsupported, parse, refusal

log = structlog.get_logger(__name__)

RequestHandler = Callable[["SmgpSession", int, Packet], Coroutine[Any, Any, None]]
"""Called in its own task for each request but ActiveTest and Exit, with its sequence; it must
answer (``respond``)."""
InlineHandler = Callable[["SmgpSession", int, Packet], bool]
"""Tried first, in the reading turn: True when it answered the request itself."""


class SessionClosed(ConnectionError):
    """The connection is gone; nothing more can be sent on it."""


class SmgpSession:
    """Reads packets in ``run()``; ``request()`` waits for the response with the same sequence."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 on_request: RequestHandler, *, window: int = 16, response_timeout: float = 10.0,
                 name: str = "smgp", tasks: set[asyncio.Task[None]] | None = None,
                 handlers: int = 0, inline: InlineHandler | None = None) -> None:  # fmt: skip
        self.window = window
        self.handlers = handlers or window
        self.response_timeout = response_timeout
        self.name = name
        self.closed = False
        self.exiting = False
        self.busy_answers = 0
        self._reader = reader
        self._writer = writer
        self._on_request = on_request
        self._inline = inline
        self._slots = asyncio.Semaphore(window)
        self._pending: dict[int, asyncio.Future[Packet]] = {}
        self._out: list[bytes] = []
        self._tasks = set() if tasks is None else tasks
        self._loop = asyncio.get_running_loop()
        self._seq = itertools.count(1)
        self.last_heard = self._loop.time()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def next_sequence(self) -> int:
        sequence = next(self._seq)
        if sequence > 0xFFFF_FFFF:
            self._seq = itertools.count(2)
            sequence = 1
        return sequence

    def write(self, packet: Packet, sequence: int) -> None:
        if self.closed:
            raise SessionClosed(f"{self.name}: link closed")
        self.write_raw(frame(packet.COMMAND, sequence, packet.body()))

    def write_raw(self, data: bytes) -> None:
        """Bytes as they are; packets written in one loop turn leave in one ``send``."""
        if self.closed:
            return
        self._out.append(data)
        if len(self._out) == 1:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        if self._out and not self._writer.is_closing():
            self._writer.write(b"".join(self._out))
        self._out.clear()

    def respond(self, sequence: int, packet: Packet) -> None:
        """Send a response; a no-op once the link is gone."""
        if not self.closed:
            self.write(packet, sequence)

    async def request(self, packet: Packet, response_timeout: float = 0.0) -> Packet:
        """Send a request once a window slot is free; its response (status unchecked).
        ``TimeoutError`` when none came in time, ``SessionClosed`` when the link dropped."""
        async with self._slots:
            future: asyncio.Future[Packet] = self._loop.create_future()
            sequence = self.next_sequence()
            self._pending[sequence] = future
            timer = self._loop.call_later(response_timeout or self.response_timeout,
                                          _expire, future)  # fmt: skip
            try:
                self.write(packet, sequence)
                return await future
            finally:
                timer.cancel()
                self._pending.pop(sequence, None)

    async def run(self) -> None:
        """Read until the link drops (or a packet cannot be framed), then fail what is pending."""
        try:
            while not self.closed:
                try:
                    f = await read_frame(self._reader)
                except PacketError as exc:
                    log.warning("smgp.bad_frame", link=self.name, why=str(exc))
                    break
                self.last_heard = self._loop.time()
                try:
                    packet = parse(f)
                except PacketError as exc:
                    log.warning("smgp.bad_packet", link=self.name, why=str(exc),
                                command=f"0x{f.command:08X}")  # fmt: skip
                    if exc.fatal:
                        break
                    if not f.is_response:
                        self.respond(f.sequence, refusal(f.command, f.body, Status.BAD_STRUCTURE))
                    continue
                self._dispatch(f, packet)
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            if not (self.closed or self.exiting):
                log.info("smgp.link_lost", link=self.name, why=repr(exc))
        finally:
            self.close()

    def _dispatch(self, f: Frame, packet: Packet) -> None:
        command = f.command
        if f.is_response:
            future = self._pending.get(f.sequence)
            if future is not None and not future.done():
                future.set_result(packet)
            else:
                log.warning("smgp.stray_response", link=self.name, command=f"0x{command:08X}")
        elif command == Cmd.ACTIVE_TEST:
            self.respond(f.sequence, Bare(Cmd.ACTIVE_TEST | RESPONSE))
        elif command == Cmd.EXIT:
            self.respond(f.sequence, Bare(Cmd.EXIT | RESPONSE))
            log.info("smgp.exit_by_peer", link=self.name)
            self.close()
        elif isinstance(packet, Unsupported):
            self.respond(f.sequence, refusal(command, f.body, Status.BAD_COMMAND))
        elif self._inline is not None and self._inline(self, f.sequence, packet):
            pass
        elif len(self._tasks) >= self.handlers:
            self.busy_answers += 1
            log.warning("smgp.busy", link=self.name, command=f"0x{command:X}",
                        running=len(self._tasks))  # fmt: skip
            self.respond(f.sequence, refusal(command, f.body, Status.BUSY))
        else:
            task = asyncio.create_task(self._on_request(self, f.sequence, packet))
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("smgp.request_failed", link=self.name, error=repr(task.exception()))

    def close(self) -> None:
        """Close the socket and fail pending requests; request handlers keep running."""
        if self.closed:
            return
        self.closed = True
        self._flush()
        self._writer.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SessionClosed(f"{self.name}: link closed"))

    async def exit(self, response_timeout: float = 2.0) -> None:
        """Say goodbye (Exit, wait for ExitResp) and close; errors are no concern here."""
        self.exiting = True
        try:
            await self.request(Bare(Cmd.EXIT), response_timeout=response_timeout)
        except (TimeoutError, ConnectionError):
            pass
        await self.aclose()

    async def aclose(self) -> None:
        self.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass


def _expire(future: asyncio.Future[Packet]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
