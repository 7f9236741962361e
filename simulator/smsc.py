"""SMSC simulator: an SMPP server for ESMEs to bind to, with handsets and faults on demand."""

from __future__ import annotations

import asyncio
from types import TracebackType

import structlog

from simulator.smsc_handset import Handset, MoTicket, Received
from simulator.smsc_mo import Conn, MoRouter
from simulator.smsc_mt import Faults, MtDesk, Stats
from smsmenu.gateway.smpp_codec import (
    RALYBND,
    RINVBNDSTS,
    RINVCMDID,
    RINVPASWD,
    RINVSYSID,
    ROK,
    Pdu,
    text_field,
)
from smsmenu.gateway.smpp_session import SmppSession

log = structlog.get_logger(__name__)
_MODES = {"bind_transceiver": "trx", "bind_transmitter": "tx", "bind_receiver": "rx"}


class SmscSimulator:
    """``async with SmscSimulator({"esme": "secret"}) as smsc:`` then ``smsc.port``, handsets.

    ``redeliver_after``: seconds the SMSC waits for a deliver_sm_resp before sending it again;
    ``retry_delay``: pause before redelivering after an error status or a lost link.
    """

    def __init__(
        self,
        accounts: dict[str, str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        service: str = "10658",
        redeliver_after: float = 10.0,
        retry_delay: float = 0.05,
        window: int = 10,
    ) -> None:
        self.accounts = dict(accounts)
        self.host, self.port, self.service = host, port, service
        self.window = window
        self.faults = Faults()
        self.stats = Stats()
        self.conns: list[Conn] = []
        self._handsets: dict[str, Handset] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._changed = asyncio.Condition()
        self.mt = MtDesk(self.handset, self.faults, self.stats)
        self.mo = MoRouter(lambda: self.binds, self._changed, self.faults, self.stats,
                           redeliver_after, retry_delay)  # fmt: skip
        self._server: asyncio.Server | None = None

    @property
    def binds(self) -> list[Conn]:
        return [c for c in self.conns if c.mode and not c.session.closed]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> SmscSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        await self.drop_links()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def handset(self, msisdn: str) -> Handset:
        """The handset with this number, created (with its MO delivery worker) on first use."""
        if msisdn not in self._handsets:
            phone = self._handsets[msisdn] = Handset(msisdn, self.service)
            self._workers.append(asyncio.create_task(self.mo.run(phone)))
        return self._handsets[msisdn]

    async def wait_bound(self, count: int = 1) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.binds) >= count)

    async def drop_links(self) -> None:
        """Fault: cut every ESME connection at once (no unbind)."""
        conns = list(self.conns)
        for conn in conns:
            conn.session.close()
        await asyncio.gather(*(c.session.aclose() for c in conns), return_exceptions=True)

    def send_garbage(self, data: bytes) -> None:
        """Fault: raw bytes to every bound ESME."""
        for conn in self.binds:
            conn.session.write_raw(data)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        conn = Conn(SmppSession(reader, writer, lambda s, p: self._request(conn, p),
                                window=self.window, name=f"esme {peer}"))  # fmt: skip
        self.conns.append(conn)
        try:
            await conn.session.run()
        finally:
            self.conns.remove(conn)
            await conn.session.aclose()
            await self._notify()

    async def _request(self, conn: Conn, pdu: Pdu) -> None:
        session, command = conn.session, pdu.command
        if command in _MODES:
            await self._bind(conn, pdu)
        elif not conn.mode:
            session.nack(pdu.sequence, RINVBNDSTS)
        elif command == "submit_sm" and conn.mode in ("trx", "tx"):
            await self.mt.submit(conn.session, pdu)
        else:
            session.nack(pdu.sequence, RINVCMDID)

    async def _bind(self, conn: Conn, pdu: Pdu) -> None:
        system_id, password = text_field(pdu.system_id), text_field(pdu.password)
        status = ROK
        if conn.mode:
            status = RALYBND
        elif system_id not in self.accounts:
            status = RINVSYSID
        elif self.accounts[system_id] != password:
            status = RINVPASWD
        conn.session.respond(pdu, status=status, system_id="SMSCSIM")
        if status != ROK:
            self.stats.bind_failures += 1
            log.info("smsc.bind_refused", system_id=system_id, status=status)
            if status != RALYBND:
                conn.session.close()
            return
        conn.system_id, conn.mode = system_id, _MODES[pdu.command]
        self.stats.binds += 1
        await self._notify()

__all__ = ["Conn", "Faults", "Handset", "MoTicket", "Received", "SmscSimulator", "Stats"]
