"""SMSC simulator: an SMPP server for ESMEs to bind to, with handsets and faults on demand."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass, field
from types import TracebackType

import structlog

from simulator.smsc_handset import Handset, MoItem, MoTicket, Received
from smsmenu.gateway.smpp_codec import (
    RALYBND,
    RINVBNDSTS,
    RINVCMDID,
    RINVPASWD,
    RINVSYSID,
    ROK,
    RTHROTTLED,
    Pdu,
    text_field,
)
from smsmenu.gateway.smpp_inbound import Reassembler
from smsmenu.gateway.smpp_session import SmppSession
from smsmenu.gateway.smpp_text import decode, message_parts

log = structlog.get_logger(__name__)
_MODES = {"bind_transceiver": "trx", "bind_transmitter": "tx", "bind_receiver": "rx"}


@dataclass
class Faults:
    """Misbehaviour on demand; counters count down as they fire."""

    throttle_next: int = 0
    """Answer the next N submit_sm with ESME_RTHROTTLED."""
    lose_mo_acks: int = 0
    """Act as if the next N deliver_sm_resp never came (wait, then redeliver)."""
    submit_delay: float = 0.0
    """Seconds to sit on every submit_sm before answering it."""


@dataclass(eq=False)
class Conn:
    """One ESME connection and what it bound as."""

    session: SmppSession
    system_id: str = ""
    mode: str = ""

    @property
    def receives(self) -> bool:
        return self.mode in ("trx", "rx") and not self.session.closed


@dataclass
class Stats:
    binds: int = 0
    bind_failures: int = 0
    mo_attempts: int = 0
    redeliveries: int = 0
    submits: int = 0
    receipts: int = 0
    message_ids: list[str] = field(default_factory=list)


class SmscSimulator:
    """``async with SmscSimulator({"esme": "secret"}) as smsc:`` then ``smsc.port``, handsets."""

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
        self.redeliver_after = redeliver_after
        self.retry_delay = retry_delay
        self.window = window
        self.faults = Faults()
        self.stats = Stats()
        self.conns: list[Conn] = []
        self._handsets: dict[str, Handset] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._changed = asyncio.Condition()
        self._turn = itertools.count()
        self._ids = itertools.count(1)
        self._mt = Reassembler()
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
            self._workers.append(asyncio.create_task(self._deliver_loop(phone)))
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
            await self._submit(conn, pdu)
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

    async def _submit(self, conn: Conn, pdu: Pdu) -> None:
        if self.faults.submit_delay:
            await asyncio.sleep(self.faults.submit_delay)
        if self.faults.throttle_next > 0:
            self.faults.throttle_next -= 1
            conn.session.respond(pdu, status=RTHROTTLED)
            return
        message_id = f"{next(self._ids):010x}"
        conn.session.respond(pdu, message_id=message_id)
        self.stats.submits += 1
        self.stats.message_ids.append(message_id)
        sender, to = text_field(pdu.source_addr), text_field(pdu.destination_addr)
        phone = self.handset(to)
        segment, payload = message_parts(pdu)
        coding = pdu.data_coding or 0
        if segment is None:
            phone.deliver(Received(sender, decode(payload, coding), _now(), (message_id,)))
        else:
            whole = self._mt.add(f"{to}<{sender}", segment, coding, payload)
            if whole is not None:
                self._mt.done(f"{to}<{sender}", segment)
                phone.deliver(Received(sender, whole, _now(), (message_id,)))
        if (pdu.registered_delivery or 0) & 0x01:
            self._receipt(phone, sender, message_id)

    def _receipt(self, phone: Handset, service: str, message_id: str) -> MoTicket:
        stamp = _now().strftime("%y%m%d%H%M")
        text = (f"id:{message_id} sub:001 dlvrd:001 submit date:{stamp} done date:{stamp} "
                f"stat:DELIVRD err:000 text:")  # fmt: skip
        fields: dict[str, object] = {
            "source_addr": phone.msisdn, "destination_addr": service, "esm_class": 0x04,
            "short_message": text.encode("ascii"), "receipted_message_id": message_id,
            "message_state": 2,
        }  # fmt: skip
        self.stats.receipts += 1
        return phone.queue_receipt(fields, {})

    async def _receiver(self) -> Conn:
        """The next bound receiving ESME, round-robin; waits while there is none."""
        while True:
            ready = [c for c in self.binds if c.receives]
            if ready:
                return ready[next(self._turn) % len(ready)]
            async with self._changed:
                await self._changed.wait_for(lambda: any(c.receives for c in self.binds))

    async def _deliver_loop(self, phone: Handset) -> None:
        """One handset's MO and receipts, in order, each retried until acknowledged."""
        while True:
            item = await phone.queue.get()
            await self._deliver(item)

    async def _deliver(self, item: MoItem) -> None:
        while True:
            conn = await self._receiver()
            item.ticket.attempts += 1
            self.stats.mo_attempts += 1
            session = conn.session
            try:
                pdu = session.make("deliver_sm", **item.fields)
                resp = await session.request(pdu, item.tlvs, self.redeliver_after)
            except (TimeoutError, ConnectionError):
                resp = None
            if resp is not None and resp.status == ROK and self.faults.lose_mo_acks > 0:
                self.faults.lose_mo_acks -= 1
                await asyncio.sleep(self.redeliver_after)
                resp = None
            if resp is not None and resp.status == ROK:
                item.ticket.part_acked()
                return
            self.stats.redeliveries += 1
            await asyncio.sleep(self.retry_delay)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


__all__ = ["Faults", "Handset", "MoTicket", "Received", "SmscSimulator"]
