"""One SMPP connection, either side: requests matched to responses in a window, nacks, keepalive."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from smpplib.command_codes import commands

from smsmenu.gateway.smpp_codec import (
    RINVCMDLEN,
    ROK,
    RTHROTTLED,
    RX_T_APPNACK,
    Pdu,
    PduError,
    Sequence,
    encode,
    make,
    parse,
)
from smsmenu.gateway.smpp_reader import Garbage, PduReader

log = structlog.get_logger(__name__)

RequestHandler = Callable[["SmppSession", Pdu], Coroutine[Any, Any, None]]
"""Called in its own task for each request PDU except enquire_link/unbind; it must respond."""
InlineHandler = Callable[["SmppSession", Pdu], bool]
"""Tried first, in the reading turn, for the same requests: True when it answered ``pdu``
itself (a delivery receipt: nothing to wait for), False to leave it to the ``RequestHandler``."""
_EXPIRY_SLACK = 0.001
"""A timer may fire up to the loop's clock resolution early: deadlines this close have passed."""
_ANSWERED = frozenset(name.removesuffix("_resp") for name in commands if name.endswith("_resp"))
_REDELIVERED = frozenset({"deliver_sm", "data_sm"})
"""Requests an SMSC delivers again after ESME_RX_T_APPN; the others are told ESME_RTHROTTLED."""


class SessionClosed(ConnectionError):
    """The connection is gone; nothing more can be sent on it."""


class SmppSession:
    """Reads PDUs in ``run()``; ``request()`` waits for the response with the same sequence."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_request: RequestHandler,
        *,
        window: int = 10,
        response_timeout: float = 10.0,
        name: str = "smpp",
        tasks: set[asyncio.Task[None]] | None = None,
        handlers: int = 0,
        inline: InlineHandler | None = None,
    ) -> None:
        self.seq = Sequence()
        self.window = window
        self.handlers = handlers or window
        """Request handlers running at once (in ``tasks``); a request beyond is answered busy."""
        self.busy_answers = 0
        self.response_timeout = response_timeout
        self.name = name
        self.nacks_sent = 0
        self.closed = False
        self.unbinding = False
        self._reader = PduReader(reader)
        self._writer = writer
        self._on_request = on_request
        self._inline = inline
        self._slots = asyncio.Semaphore(window)
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._deadlines: dict[int, float] = {}
        """When each pending request times out (loop time), in the order they were sent."""
        self._expiry: asyncio.TimerHandle | None = None
        self._expiry_at = 0.0
        self._out: list[bytes] = []
        self._tasks = set() if tasks is None else tasks
        self._loop = asyncio.get_running_loop()
        transport = writer.transport
        self._transport = transport
        self._drain_above = transport.get_write_buffer_limits()[0]
        """Bytes in the transport's buffer beyond which ``request`` waits for it to drain."""
        self.last_heard = self._loop.time()

    @property
    def in_flight(self) -> int:
        """Requests sent and not yet answered (at most ``window``)."""
        return len(self._pending)

    def make(self, command: str, **fields: Any) -> Pdu:
        return make(command, self.seq, **fields)

    def write(self, pdu: Pdu, tlvs: dict[int, bytes] | None = None) -> None:
        if self.closed:
            raise SessionClosed(f"{self.name}: link closed")
        self._queue(encode(pdu, tlvs))

    def write_raw(self, data: bytes) -> None:
        """Bytes as they are (the simulator's garbage fault)."""
        if not self.closed:
            self._queue(data)

    def _queue(self, data: bytes) -> None:
        """PDUs written in one turn of the event loop leave in one ``send``: fewer system calls
        (and, next to the ledger's writer thread, fewer handovers of the GIL)."""
        self._out.append(data)
        if len(self._out) == 1:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        if self._out and not self._writer.is_closing():
            self._writer.write(b"".join(self._out))
        self._out.clear()

    def respond(self, request: Pdu, status: int = ROK, **fields: Any) -> None:
        """Answer ``request`` with its ``*_resp``; a no-op once the link is gone."""
        if not self.closed:
            name = f"{request.command}_resp"
            self.write(make(name, self.seq, sequence=request.sequence, status=status, **fields))

    def nack(self, sequence: int, status: int) -> None:
        self.nacks_sent += 1
        if not self.closed:
            self.write(make("generic_nack", self.seq, sequence=sequence, status=status))

    async def request(
        self, pdu: Pdu, tlvs: dict[int, bytes] | None = None, response_timeout: float = 0.0
    ) -> Pdu:
        """Send a request once a window slot is free; return its response (status unchecked).

        ``TimeoutError`` when no response came within ``response_timeout`` (default: the
        session's). One timer per session expires overdue requests (``_expire``), rather than
        a timeout context per request; the socket is drained only when its buffer backs up.
        """
        async with self._slots:
            future: asyncio.Future[Pdu] = self._loop.create_future()
            sequence = pdu.sequence
            self._pending[sequence] = future
            deadline = self._loop.time() + (response_timeout or self.response_timeout)
            self._deadlines[sequence] = deadline
            if self._expiry is None or deadline < self._expiry_at:
                self._expire_at(deadline)
            try:
                self.write(pdu, tlvs)
                if self._transport.get_write_buffer_size() > self._drain_above:
                    await self._drain(future)
                return await future
            finally:
                self._pending.pop(sequence, None)
                self._deadlines.pop(sequence, None)

    async def _drain(self, future: asyncio.Future[Pdu]) -> None:
        try:
            await self._writer.drain()
        except BaseException:
            if future.done() and not future.cancelled():
                future.exception()  # failed meanwhile (closed, expired): retrieved, not logged
            raise

    def _expire_at(self, when: float) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = self._loop.call_at(when, self._expire)
        self._expiry_at = when

    def _expire(self) -> None:
        """Fail the requests past their deadline with ``TimeoutError``; re-arm for the next."""
        self._expiry = None
        now = self._loop.time() + _EXPIRY_SLACK
        following = math.inf
        for sequence, deadline in self._deadlines.items():
            if deadline <= now:
                future = self._pending[sequence]
                if not future.done():
                    future.set_exception(TimeoutError())
            elif deadline < following:
                following = deadline
        if following < math.inf and not self.closed:
            self._expire_at(following)

    async def run(self) -> None:
        """Read until the link drops, then fail every pending request with ``SessionClosed``."""
        try:
            while not self.closed:
                item = await self._reader.read()
                self.last_heard = self._loop.time()
                if isinstance(item, Garbage):
                    log.warning("smpp.garbage", link=self.name, skipped=item.skipped)
                    self.nack(item.sequence, RINVCMDLEN)
                    continue
                try:
                    pdu = parse(item)
                except PduError as exc:
                    log.warning("smpp.bad_pdu", link=self.name, why=str(exc), status=exc.status)
                    self.nack(exc.sequence, exc.status)
                    continue
                self._dispatch(pdu)
        except (ConnectionError, OSError) as exc:
            if not (self.closed or self.unbinding):
                log.info("smpp.link_lost", link=self.name, why=repr(exc))
        finally:
            self.close()

    def _dispatch(self, pdu: Pdu) -> None:
        if pdu.is_response():
            future = self._pending.get(pdu.sequence)
            if future is not None and not future.done():
                future.set_result(pdu)
            else:
                log.warning("smpp.stray_response", link=self.name, command=pdu.command)
        elif pdu.command == "enquire_link":
            self.respond(pdu)
        elif pdu.command == "unbind":
            self.respond(pdu)
            log.info("smpp.unbound_by_peer", link=self.name)
            self.close()
        elif self._inline is not None and self._inline(self, pdu):
            pass
        elif len(self._tasks) >= self.handlers:
            self._busy(pdu)
        else:
            task = asyncio.create_task(self._on_request(self, pdu))
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _busy(self, pdu: Pdu) -> None:
        """``handlers`` requests are being handled: answer at once, the peer tries again later."""
        self.busy_answers += 1
        log.warning("smpp.busy", link=self.name, command=pdu.command, running=len(self._tasks))
        if pdu.command in _ANSWERED:  # (alert_notification and outbind get no answer)
            self.respond(pdu, RX_T_APPNACK if pdu.command in _REDELIVERED else RTHROTTLED)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("smpp.request_failed", link=self.name, error=repr(task.exception()))

    def close(self) -> None:
        """Close the socket and fail pending requests; request handlers keep running."""
        if self.closed:
            return
        self.closed = True
        self._flush()  # what was written before closing still goes (an unbind_resp, a nack)
        self._writer.close()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SessionClosed(f"{self.name}: link closed"))

    async def unbind(self, response_timeout: float = 2.0) -> None:
        """Say goodbye (unbind, wait for unbind_resp) and close; errors are no concern here."""
        self.unbinding = True
        try:
            await self.request(self.make("unbind"), response_timeout=response_timeout)
        except (TimeoutError, ConnectionError):
            pass
        await self.aclose()

    async def aclose(self) -> None:
        """Close and wait for the socket to be released; request handlers keep running."""
        self.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def finish(tasks: set[asyncio.Task[None]], grace: float) -> None:
    """Give running request handlers ``grace`` seconds, then cancel the rest."""
    if tasks:
        _done, pending = await asyncio.wait(set(tasks), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
