"""One SMPP session's requests: responses matched, deadlines kept by one timer, the window bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from smsmenu.gateway.smpp_codec import ROK, Pdu, Sequence, encode, make, parse
from smsmenu.gateway.smpp_reader import PduReader
from smsmenu.gateway.smpp_session import SessionClosed, SmppSession


class Peer:
    """The far end: answers submit_sm after ``delay`` s, never those whose text is ``b"mute"``."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.seen: list[Pdu] = []
        self.most_outstanding = 0
        self._outstanding = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        frames = PduReader(reader)
        try:
            while True:
                frame = await frames.read()
                assert isinstance(frame, bytes)
                pdu = parse(frame)
                self.seen.append(pdu)
                if pdu.short_message != b"mute":
                    asyncio.get_running_loop().create_task(self._answer(pdu, writer))
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _answer(self, pdu: Pdu, writer: asyncio.StreamWriter) -> None:
        self._outstanding += 1
        self.most_outstanding = max(self.most_outstanding, self._outstanding)
        await asyncio.sleep(self.delay)
        self._outstanding -= 1
        resp = make("submit_sm_resp", Sequence(), sequence=pdu.sequence, message_id="m1")
        writer.write(encode(resp))


@asynccontextmanager
async def session_to(peer: Peer, **kwargs: float) -> AsyncIterator[SmppSession]:
    server = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def unused(session: SmppSession, pdu: Pdu) -> None:
        raise AssertionError("the peer sends no requests")

    session = SmppSession(reader, writer, unused, name="test", **kwargs)  # type: ignore[arg-type]
    runner = asyncio.create_task(session.run())
    try:
        yield session
    finally:
        await session.aclose()
        await asyncio.gather(runner, return_exceptions=True)
        server.close()
        await server.wait_closed()


def submit(session: SmppSession, text: bytes) -> Pdu:
    return session.make("submit_sm", source_addr="10658", destination_addr="18900000001",
                        short_message=text)  # fmt: skip


async def timed(call: Callable[[], object]) -> float:
    began = time.monotonic()
    await call()  # type: ignore[misc]
    return time.monotonic() - began


async def test_an_unanswered_request_times_out_at_its_deadline_and_the_session_goes_on() -> None:
    """No response within response_timeout: TimeoutError then (not before, not much later)."""
    peer = Peer()
    async with session_to(peer, response_timeout=0.2) as session:
        began = time.monotonic()
        with pytest.raises(TimeoutError):
            await session.request(submit(session, b"mute"))
        took = time.monotonic() - began
        assert 0.19 <= took < 0.5, took
        assert session.in_flight == 0
        resp = await session.request(submit(session, b"hello"))
        assert (resp.status, resp.command) == (ROK, "submit_sm_resp")


async def test_each_request_keeps_its_own_deadline() -> None:
    """A later request with a shorter timeout expires first; a long one waits its own time;
    answered requests are never expired."""
    peer = Peer()
    async with session_to(peer, response_timeout=5.0) as session:
        began = time.monotonic()
        long = asyncio.create_task(session.request(submit(session, b"mute"), response_timeout=0.6))
        await asyncio.sleep(0.05)
        short = asyncio.create_task(session.request(submit(session, b"mute"),
                                                    response_timeout=0.1))  # fmt: skip
        answered = asyncio.create_task(session.request(submit(session, b"ok")))
        done, _ = await asyncio.wait({short, long, answered}, return_when=asyncio.FIRST_EXCEPTION)
        assert short in done and isinstance(short.exception(), TimeoutError)
        assert 0.14 <= time.monotonic() - began < 0.5
        assert not long.done() and answered.done() and answered.result().status == ROK
        with pytest.raises(TimeoutError):
            await long
        assert 0.59 <= time.monotonic() - began < 1.0
        assert session.in_flight == 0


async def test_window_bounds_outstanding_requests_and_all_are_answered() -> None:
    peer = Peer()
    peer.delay = 0.02
    async with session_to(peer, window=3) as session:
        answers = await asyncio.gather(*(session.request(submit(session, b"x%d" % n))
                                         for n in range(12)))  # fmt: skip
    assert [a.status for a in answers] == [ROK] * 12
    assert peer.most_outstanding == 3


async def test_requests_pending_when_the_link_closes_fail_with_session_closed() -> None:
    peer = Peer()
    async with session_to(peer, response_timeout=5.0) as session:
        pending = asyncio.create_task(session.request(submit(session, b"mute")))
        await asyncio.sleep(0.05)
        session.close()
        with pytest.raises(SessionClosed):
            await pending
        with pytest.raises(SessionClosed):
            await session.request(submit(session, b"after"))
        assert session.in_flight == 0
